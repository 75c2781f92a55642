//! The alert rules: promtool's check and unit tests, and the coverage and
//! runbook rules every alert follows.

use crate::{alerts_path, alerts_test_path, seq, yaml};
use serde_yaml::Value as Yaml;
use soko_e2e::{repo_root, tools};
use std::collections::BTreeSet;

/// The file that holds the runbooks, relative to the repository root; every
/// alert's `runbook_url` is this path plus a heading anchor.
const RUNBOOKS: &str = "docs/OPERATIONS.md";

#[test]
fn alert_rules_pass_promtool_check_and_their_unit_tests() {
    let Some(found) = tools::require("alert rules", &["promtool"]) else {
        return;
    };
    let promtool = &found[0];
    let alerts = alerts_path();
    let check = tools::run(promtool, &["check", "rules", &alerts.to_string_lossy()]);
    assert!(
        check.success,
        "promtool check rules failed:\n{}",
        check.output
    );
    let unit = tools::run(
        promtool,
        &["test", "rules", &alerts_test_path().to_string_lossy()],
    );
    assert!(unit.success, "promtool test rules failed:\n{}", unit.output);
}

/// GitHub's anchor for a Markdown heading: lower case, spaces to dashes,
/// punctuation dropped.
fn heading_anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

#[test]
fn every_alert_has_a_firing_and_a_quiet_unit_test_and_a_runbook_in_the_operations_doc() {
    let rules = yaml(&alerts_path());
    let alerts: Vec<&Yaml> = seq(&rules["groups"])
        .iter()
        .flat_map(|group| seq(&group["rules"]))
        .filter(|rule| rule["alert"].is_string())
        .collect();
    assert!(
        alerts.len() >= 9,
        "the seed's alerts plus dead jobs and hydrate latency"
    );

    let mut firing = BTreeSet::new();
    let mut quiet = BTreeSet::new();
    for test in seq(&yaml(&alerts_test_path())["tests"]) {
        for case in seq(&test["alert_rule_test"]) {
            let name = case["alertname"].as_str().unwrap_or_default().to_owned();
            if seq(&case["exp_alerts"]).is_empty() {
                quiet.insert(name)
            } else {
                firing.insert(name)
            };
        }
    }

    let runbooks = std::fs::read_to_string(repo_root().join(RUNBOOKS)).expect(RUNBOOKS);
    let anchors: BTreeSet<String> = runbooks
        .lines()
        .filter_map(|line| line.strip_prefix('#'))
        .map(|h| heading_anchor(h.trim_start_matches('#')))
        .collect();
    for alert in alerts {
        let name = alert["alert"].as_str().unwrap_or_default();
        assert!(
            firing.contains(name),
            "{name} has no unit test where it fires"
        );
        assert!(
            quiet.contains(name),
            "{name} has no unit test where it stays quiet"
        );
        let severity = alert["labels"]["severity"].as_str().unwrap_or_default();
        assert!(
            ["critical", "warning"].contains(&severity),
            "{name}: severity `{severity}`"
        );
        for annotation in ["summary", "description", "runbook_url"] {
            assert!(
                alert["annotations"][annotation]
                    .as_str()
                    .is_some_and(|text| !text.is_empty()),
                "{name}: no {annotation}"
            );
        }
        let runbook = alert["annotations"]["runbook_url"]
            .as_str()
            .unwrap_or_default();
        let anchor = runbook
            .strip_prefix(RUNBOOKS)
            .and_then(|rest| rest.strip_prefix('#'))
            .unwrap_or_else(|| {
                panic!("{name}: runbook `{runbook}` is not an anchor in {RUNBOOKS}")
            });
        assert!(
            anchors.contains(anchor),
            "{name}: {RUNBOOKS} has no heading for #{anchor}"
        );
    }
}
