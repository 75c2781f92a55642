//! The product chain's job stages, by the names the `jobs` table, the metrics
//! and the admin pages use. The chain runs them in this order.

pub mod stage {
    pub const SCOUT: &str = "scout";
    pub const HYDRATE: &str = "hydrate";
    pub const EMBED: &str = "embed";
    pub const QC: &str = "qc";
    pub const PERSIST: &str = "persist";

    /// Every stage, in chain order.
    pub const ALL: [&str; 5] = [SCOUT, HYDRATE, EMBED, QC, PERSIST];

    /// The `&'static str` for a stage name read from the database.
    pub fn from_name(name: &str) -> Option<&'static str> {
        ALL.into_iter().find(|s| *s == name)
    }
}

#[cfg(test)]
mod tests {
    use super::stage;

    #[test]
    fn names_round_trip() {
        for name in stage::ALL {
            assert_eq!(stage::from_name(name), Some(name));
        }
        assert_eq!(stage::from_name("index"), None);
    }
}
