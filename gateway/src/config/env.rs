//! Reading environment variables: each reader trims, parses and checks one
//! value, and on a bad value records a problem and returns the default, so
//! every problem of a deployment is reported in one pass.

use std::{net::IpAddr, str::FromStr};

use ipnet::IpNet;
use secrecy::SecretString;
use url::Url;

use crate::parse::phone;

pub(super) struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    pub(super) problems: Vec<String>,
}

impl<'a> Env<'a> {
    pub(super) fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self { lookup, problems: Vec::new() }
    }

    /// The trimmed value; unset and blank are the same.
    pub(super) fn get(&self, key: &str) -> Option<String> {
        (self.lookup)(key).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    pub(super) fn problem(&mut self, problem: impl Into<String>) {
        self.problems.push(problem.into());
    }

    /// A number within `range`.
    pub(super) fn parse<T>(&mut self, key: &str, default: T, range: impl std::ops::RangeBounds<T> + std::fmt::Debug) -> T
    where
        T: FromStr + PartialOrd + Copy + std::fmt::Display,
    {
        let Some(raw) = self.get(key) else { return default };
        match raw.parse::<T>() {
            Ok(value) if range.contains(&value) => value,
            Ok(value) => {
                self.problems.push(format!("{key}={value} is outside the allowed range {range:?}"));
                default
            }
            Err(_) => {
                self.problems.push(format!("{key}={raw:?} is not a valid number (default {default})"));
                default
            }
        }
    }

    /// A number from `min` to `max` (the product chain's wording).
    pub(super) fn number<T>(&mut self, key: &str, default: T, min: T, max: T) -> T
    where
        T: FromStr + PartialOrd + Copy + std::fmt::Display,
    {
        let Some(raw) = self.get(key) else { return default };
        match raw.parse::<T>() {
            Ok(v) if v >= min && v <= max => v,
            _ => {
                self.problems.push(format!("{key}={raw:?} must be a number from {min} to {max} (default {default})"));
                default
            }
        }
    }

    /// Off only for `0`, `false`, `off` or `no`.
    pub(super) fn flag(&self, key: &str) -> bool {
        self.get(key).is_none_or(|v| !matches!(v.as_str(), "0" | "false" | "off" | "no"))
    }

    pub(super) fn require(&mut self, key: &str, why: &str) -> Option<String> {
        let value = self.get(key);
        if value.is_none() {
            self.problems.push(format!("{key} is required {why}"));
        }
        value
    }

    /// A comma-separated list of secrets (rotation).
    pub(super) fn secret_list(&mut self, key: &str) -> Vec<SecretString> {
        let Some(raw) = self.get(key) else { return Vec::new() };
        let values: Vec<SecretString> = raw
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| SecretString::from(v.to_owned()))
            .collect();
        if values.is_empty() {
            self.problems.push(format!("{key} lists no values"));
        }
        values
    }

    /// Comma-separated CIDRs; a single address is its host network.
    pub(super) fn cidr_list(&mut self, key: &str) -> Vec<IpNet> {
        let Some(raw) = self.get(key) else { return Vec::new() };
        let mut nets = Vec::new();
        for item in raw.split(',').map(str::trim).filter(|v| !v.is_empty()) {
            match item.parse::<IpNet>().or_else(|_| item.parse::<IpAddr>().map(IpNet::from)) {
                Ok(net) => nets.push(net),
                Err(_) => self.problems.push(format!("{key}: {item:?} is not an IP address or CIDR")),
            }
        }
        nets
    }

    pub(super) fn region(&mut self, key: &str) -> phonenumber::country::Id {
        let raw = self.get(key).unwrap_or_else(|| phone::DEFAULT_REGION.into());
        phone::parse_region(&raw).unwrap_or_else(|| {
            self.problems.push(format!("{key}={raw:?} is not an ISO 3166 region code such as KE"));
            phonenumber::country::Id::KE
        })
    }

    /// An http(s) base URL with a host and no query.
    pub(super) fn base_url(&mut self, key: &str, default: &str) -> Url {
        let raw = self.get(key).unwrap_or_else(|| default.into());
        match Url::parse(&raw) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() && url.query().is_none() => url,
            _ => {
                self.problems.push(format!("{key}={raw:?} must be an http(s) URL with a host and no query, such as {default}"));
                Url::parse(default).unwrap_or_else(|_| unreachable!("the default base URL parses"))
            }
        }
    }

    /// An optional http(s) URL with a host.
    pub(super) fn url(&mut self, key: &str) -> Option<Url> {
        let raw = self.get(key)?;
        match Url::parse(&raw) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => Some(url),
            _ => {
                self.problems.push(format!("{key} must be an http(s) URL with a host"));
                None
            }
        }
    }

    pub(super) fn currency(&mut self, key: &str) -> String {
        let raw = self.get(key).unwrap_or_else(|| "KES".into()).to_ascii_uppercase();
        if raw.len() == 3 && raw.bytes().all(|b| b.is_ascii_uppercase()) {
            raw
        } else {
            self.problems.push(format!("{key}={raw:?} is not a three-letter ISO 4217 code such as KES"));
            "KES".into()
        }
    }
}
