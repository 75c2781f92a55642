//! A private Prometheus server for one test: its own config, storage
//! directory and port, scraping the given targets every second. It is
//! killed when dropped. Queries go through the HTTP API
//! (`/api/v1/query`), exactly as Grafana sends them.

use anyhow::{Context, bail};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One scrape job: a name and `host:port` targets.
pub struct ScrapeJob {
    pub name: String,
    pub targets: Vec<String>,
}

/// One element of an instant-query result.
#[derive(Debug, Clone)]
pub struct Sample {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

pub struct PrometheusServer {
    child: Child,
    base_url: String,
    log_path: PathBuf,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

fn free_port() -> anyhow::Result<u16> {
    // Prometheus binds by itself; the short race with another process taking
    // the port in between shows up as a start-up failure with its log.
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

fn config_yaml(jobs: &[ScrapeJob], rule_files: &[&Path]) -> String {
    let mut yaml = String::from(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n",
    );
    if !rule_files.is_empty() {
        yaml.push_str("rule_files:\n");
        for file in rule_files {
            let _ = writeln!(yaml, "  - '{}'", file.display());
        }
    }
    yaml.push_str("scrape_configs:\n");
    for job in jobs {
        let targets: Vec<String> = job
            .targets
            .iter()
            .map(|target| format!("'{target}'"))
            .collect();
        let _ = writeln!(
            yaml,
            "  - job_name: '{}'\n    static_configs:\n      - targets: [{}]",
            job.name,
            targets.join(", ")
        );
    }
    yaml
}

impl PrometheusServer {
    /// Starts `binary` and waits until it answers `/-/ready`.
    pub async fn start(
        binary: &Path,
        jobs: &[ScrapeJob],
        rule_files: &[&Path],
    ) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config_yaml(jobs, rule_files))?;
        let storage = dir.path().join("data");
        let log_path = dir.path().join("prometheus.log");
        let log = std::fs::File::create(&log_path)?;
        let port = free_port()?;
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!("--storage.tsdb.path={}", storage.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?;
        let mut server = Self {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            log_path,
            client,
            _dir: dir,
        };
        server.wait_ready().await?;
        Ok(server)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("prometheus exited at start-up ({status}):\n{}", self.log());
            }
            let ready = self
                .client
                .get(format!("{}/-/ready", self.base_url))
                .send()
                .await;
            if ready.is_ok_and(|response| response.status().is_success()) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("prometheus was not ready within 30 s:\n{}", self.log());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The server's own log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// An instant query at the current time; a scalar result becomes one
    /// sample without labels.
    pub async fn query(&self, expr: &str) -> anyhow::Result<Vec<Sample>> {
        let mut url = url::Url::parse(&format!("{}/api/v1/query", self.base_url))?;
        url.query_pairs_mut().append_pair("query", expr);
        let body: Value = self.client.get(url).send().await?.json().await?;
        if body["status"] != "success" {
            bail!("query failed: {expr}\n{body}");
        }
        let data = &body["data"];
        match data["resultType"].as_str() {
            Some("vector") => Ok(data["result"]
                .as_array()
                .into_iter()
                .flatten()
                .map(sample)
                .collect()),
            Some("scalar") => Ok(vec![Sample {
                labels: BTreeMap::new(),
                value: number(&data["result"][1]),
            }]),
            other => bail!("unexpected result type {other:?} for {expr}"),
        }
    }

    /// Polls `expr` until `done` accepts its result, or fails after `timeout`.
    pub async fn wait_for(
        &self,
        expr: &str,
        timeout: Duration,
        done: impl Fn(&[Sample]) -> bool,
    ) -> anyhow::Result<Vec<Sample>> {
        let deadline = Instant::now() + timeout;
        loop {
            let samples = self.query(expr).await?;
            if done(&samples) {
                return Ok(samples);
            }
            if Instant::now() > deadline {
                bail!(
                    "`{expr}` did not reach the expected value within {timeout:?}; last: {samples:?}"
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// `/api/v1/rules`: the loaded rule groups with their health.
    pub async fn rules(&self) -> anyhow::Result<Value> {
        let body: Value = self
            .client
            .get(format!("{}/api/v1/rules", self.base_url))
            .send()
            .await?
            .json()
            .await?;
        Ok(body["data"].clone())
    }
}

fn number(value: &Value) -> f64 {
    // Prometheus sends values as strings ("1.5", "NaN", "+Inf").
    value
        .as_str()
        .and_then(|text| text.parse().ok())
        .unwrap_or(f64::NAN)
}

fn sample(item: &Value) -> Sample {
    let labels = item["metric"]
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(key, value)| (key.clone(), value.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    Sample {
        labels,
        value: number(&item["value"][1]),
    }
}

impl Drop for PrometheusServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
