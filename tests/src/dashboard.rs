//! The Grafana dashboard as the tests see it: every panel query
//! (`targets[].expr`, rows' nested panels included), and the PromQL that
//! Prometheus receives once Grafana's range variables are filled in.

use anyhow::{Context, bail};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Where the dashboard lives in the repository.
pub fn dashboard_path() -> PathBuf {
    crate::repo_root().join("dashboards/grafana/soko_ingest.json")
}

#[derive(Debug, Clone)]
pub struct PanelQuery {
    pub panel: String,
    pub ref_id: String,
    pub expr: String,
}

/// Grafana's built-in range variables, in both spellings.
const RANGE_VARIABLES: [&str; 6] = [
    "${__rate_interval}",
    "$__rate_interval",
    "${__interval}",
    "$__interval",
    "${__range}",
    "$__range",
];

/// `expr` with every Grafana range variable replaced by `range` (e.g. "1m").
/// Any other `$` left over is an error: Prometheus would reject it, and
/// Grafana would send something the test did not check.
pub fn concrete_promql(expr: &str, range: &str) -> anyhow::Result<String> {
    let mut promql = expr.to_owned();
    for variable in RANGE_VARIABLES {
        promql = promql.replace(variable, range);
    }
    if promql.contains('$') {
        bail!("unknown Grafana variable left in `{expr}`");
    }
    Ok(promql)
}

pub fn load(path: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parse {}", path.display()))
}

/// Every target of every panel; a panel without a query is an error.
pub fn panel_queries(dashboard: &Value) -> anyhow::Result<Vec<PanelQuery>> {
    let mut queries = Vec::new();
    collect(
        dashboard["panels"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default(),
        &mut queries,
    )?;
    Ok(queries)
}

fn collect(panels: &[Value], queries: &mut Vec<PanelQuery>) -> anyhow::Result<()> {
    for panel in panels {
        let title = panel["title"].as_str().unwrap_or("(untitled)").to_owned();
        if panel["type"] == "row" {
            collect(
                panel["panels"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default(),
                queries,
            )?;
            continue;
        }
        let targets = panel["targets"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        if targets.is_empty() {
            bail!("panel `{title}` has no targets");
        }
        for target in targets {
            let expr = target["expr"].as_str().unwrap_or_default().trim();
            if expr.is_empty() {
                bail!("panel `{title}` has a target without `expr`");
            }
            let ref_id = target["refId"].as_str().unwrap_or_default().to_owned();
            queries.push(PanelQuery {
                panel: title.clone(),
                ref_id,
                expr: expr.to_owned(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dashboard() -> Value {
        load(&dashboard_path()).expect("the dashboard is valid JSON")
    }

    #[test]
    fn range_variables_become_the_given_range_and_others_are_refused() {
        let promql = concrete_promql("rate(x[$__rate_interval]) + rate(y[${__range}])", "1m")
            .expect("known variables");
        assert_eq!(promql, "rate(x[1m]) + rate(y[1m])");
        assert!(concrete_promql("rate(x{job=\"$job\"}[1m])", "1m").is_err());
    }

    #[test]
    fn every_panel_has_queries_and_every_query_is_concrete_promql() {
        let queries = panel_queries(&dashboard()).expect("every panel has targets with expr");
        assert!(queries.len() >= 12, "{queries:?}");
        for query in &queries {
            concrete_promql(&query.expr, "1m").expect("only range variables");
        }
    }

    #[test]
    fn the_dashboard_imports_as_it_is_with_a_prometheus_datasource_variable() {
        let dashboard = dashboard();
        let variables = dashboard["templating"]["list"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let datasource = variables
            .iter()
            .find(|v| v["type"] == "datasource")
            .expect("a datasource variable");
        assert_eq!(datasource["query"], "prometheus");
        let name = datasource["name"].as_str().expect("variable name");
        let reference = format!("${{{name}}}");
        let mut panels: Vec<&Value> = Vec::new();
        for panel in dashboard["panels"].as_array().into_iter().flatten() {
            panels.push(panel);
            panels.extend(panel["panels"].as_array().into_iter().flatten());
        }
        for panel in panels.iter().filter(|p| p["type"] != "row") {
            assert_eq!(
                panel["datasource"]["uid"].as_str(),
                Some(reference.as_str()),
                "panel {}",
                panel["title"]
            );
            for target in panel["targets"].as_array().into_iter().flatten() {
                assert_eq!(
                    target["datasource"]["uid"].as_str(),
                    Some(reference.as_str()),
                    "panel {}",
                    panel["title"]
                );
            }
        }
        // Import needs no __inputs when the datasource is a variable; a
        // leftover `${DS_…}` reference would make the import ask for one.
        assert!(
            !dashboard.to_string().contains("${DS_"),
            "unresolved import input"
        );
        let mut ids: Vec<i64> = panels.iter().filter_map(|p| p["id"].as_i64()).collect();
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), count, "panel ids are unique");
    }
}
