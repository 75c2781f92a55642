//! The Meta receiver's settings. `config` reads them from `META_APP_SECRET`
//! and `META_VERIFY_TOKEN` and validates them; the receiver only consumes them.

use secrecy::SecretString;

#[derive(Debug, Clone, Default)]
pub struct MetaSettings {
    /// The Meta app's secrets; every one is accepted (rotation). Empty means
    /// the Meta routes are off and answer 404.
    pub app_secrets: Vec<SecretString>,
    /// What the webhook form in the Meta app dashboard sends as `hub.verify_token`.
    pub verify_token: Option<SecretString>,
}

impl MetaSettings {
    pub fn is_enabled(&self) -> bool {
        !self.app_secrets.is_empty()
    }
}
