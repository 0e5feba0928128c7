//! One key of the configuration set from its raw value (file, environment or flag): the
//! key-by-key table of the module documentation of [`super`].

use super::*;

impl Settings {
    /// Sets `key` from `raw`.
    pub(super) fn set(&mut self, key: &str, raw: Raw<'_>) -> Result<(), SetError> {
        match key {
            "listen" => {
                let s = raw.non_empty()?;
                self.listen = Some(s.trim().parse().map_err(|_| {
                    format!("`{}` is not an address like 127.0.0.1:8080", clip(&s))
                })?);
            }
            "data" => self.data = Some(raw.path()?),
            "system_code" => {
                let s = raw.non_empty()?;
                camr::protocol::SystemCode::parse(&s).map_err(|e| e.to_string())?;
                self.system_code = Some(s);
            }
            "system_name" => self.system_name = Some(raw.non_empty()?),
            "public_url" => self.public_url = Some(raw.url()?),
            "database_url" => self.database_url = Some(raw.non_empty()?),
            "admin_token" => self.admin_token = Some(raw.secret()?),
            "platform_key" => self.platform_key = Some(raw.path()?),
            "request_timeout_secs" => self.request_timeout_secs = Some(raw.int(1, 3600)?),
            "body_limit" => self.body_limit = Some(raw.int(1024, 1 << 30)?),
            "qr_rotation_window_secs" => self.qr_rotation_window_secs = Some(raw.int(0, 3600)?),
            "transaction_ttl_secs" => self.transaction_ttl_secs = Some(raw.int(1, 86_400)?),
            "max_pending" => self.max_pending = Some(raw.int(1, 10_000_000)?),
            "audit_checkpoint_secs" => self.audit_checkpoint_secs = Some(raw.int(0, 86_400)?),
            "header_read_timeout_secs" => self.header_read_timeout_secs = Some(raw.int(1, 3600)?),
            "body_read_timeout_secs" => self.body_read_timeout_secs = Some(raw.int(1, 3600)?),
            "trusted_proxies" => {
                let list = raw.list()?;
                let nets = list.iter().map(|s| crate::edges::IpNet::parse(s));
                self.trusted_proxies = Some(nets.collect::<Result<_, _>>()?);
            }
            "plugins.dir" => self.plugins_dir = Some(raw.path()?),
            "plugins.pins" => self.plugins_pins = Some(raw.pins()?),
            "plugins.config" => self.plugins_config = Some(raw.adapter_configs()?),
            "trust_list.path" => self.trust_list_path = Some(raw.path()?),
            "trust_list.authority_key" => self.trust_list_authority_key = Some(raw.path()?),
            "webhook.url" => self.webhook_url = Some(raw.url()?),
            "webhook.signing" => {
                let s = raw.text()?;
                if s != "sm2" && s != "hmac-sm3" {
                    return Err(
                        format!("must be \"sm2\" or \"hmac-sm3\", not `{}`", clip(&s)).into(),
                    );
                }
                self.webhook_signing = Some(s);
            }
            "webhook.secret" => self.webhook_secret = Some(raw.secret()?),
            "webhook.max_attempts" => self.webhook_max_attempts = Some(raw.int(1, 100)?),
            "webhook.queue" => self.webhook_queue = Some(raw.int(1, 1_000_000)?),
            "webhook.timeout_secs" => self.webhook_timeout_secs = Some(raw.int(1, 600)?),
            "webhook.backoff_ms" => self.webhook_backoff_ms = Some(raw.int(1, 3_600_000)?),
            "rate_limit.per_minute" => self.rate_limit_per_minute = Some(raw.int(0, 1_000_000)?),
            "rate_limit.burst" => self.rate_limit_burst = Some(raw.int(1, 1_000_000)?),
            "rate_limit.max_clients" => self.rate_limit_max_clients = Some(raw.int(1, 10_000_000)?),
            "rate_limit.interlink_per_minute" => {
                self.rate_limit_interlink_per_minute = Some(raw.int(0, 1_000_000)?);
            }
            "rate_limit.interlink_burst" => {
                self.rate_limit_interlink_burst = Some(raw.int(1, 1_000_000)?);
            }
            "hall.project" => self.hall_project = Some(raw.non_empty()?),
            "hall.opening_in_secs" => self.hall_opening_in_secs = Some(raw.int(0, 31_536_000)?),
            "hall.opening_at" => self.hall_opening_at = Some(raw.int(0, 32_503_680_000)?),
            "hall.free_decrypts" => self.hall_free_decrypts = Some(raw.boolean()?),
            "seal_session.ttl_secs" => self.seal_session_ttl_secs = Some(raw.int(1, 86_400)?),
            "seal_session.required" => {
                let mut kinds = Vec::new();
                for k in raw.list()? {
                    let kind: camr::protocol::SealKind = k
                        .parse()
                        .map_err(|_| format!("`{}` is not a seal kind", clip(&k)))?;
                    if !kinds.contains(&kind) {
                        kinds.push(kind);
                    }
                }
                self.seal_session_required = Some(kinds);
            }
            "seal_session.pdftoppm" => self.seal_session_pdftoppm = Some(raw.path()?),
            "entitlement.vendors" => {
                self.entitlement_vendors = Some(crate::scope::vendors_setting(raw.list()?)?);
            }
            "entitlement.require" => {
                self.entitlement_require = Some(crate::scope::require_setting(raw.pairs()?)?);
            }
            "entitlement.delegated" => {
                self.entitlement_delegated = Some(crate::scope::vendors_setting(raw.list()?)?);
            }
            "entitlement.platform_only" => {
                self.entitlement_platform_only = Some(crate::scope::vendors_setting(raw.list()?)?);
            }
            "registration.approval" => {
                self.registration_approval = Some(match raw.text()?.as_str() {
                    "auto" => crate::accounts::Approval::Auto,
                    "staff" => crate::accounts::Approval::Staff,
                    other => {
                        return Err(format!(
                            "must be \"auto\" or \"staff\", not `{}`",
                            clip(other)
                        )
                        .into());
                    }
                });
            }
            "registration.share" => self.registration_share = Some(raw.boolean()?),
            "revocation.sources" => {
                let list = raw.list()?;
                self.revocation_sources =
                    Some(crate::revocation::live::SourceName::parse_list(&list)?);
            }
            "revocation.login" => {
                let login = crate::revocation::live::LiveConfig::parse_login(&raw.text()?)?;
                self.revocation_login = Some(login);
            }
            "revocation.refresh_secs" => self.revocation_refresh_secs = Some(raw.int(1, 86_400)?),
            "revocation.grace_secs" => self.revocation_grace_secs = Some(raw.int(0, 604_800)?),
            "revocation.ca_certificates" => {
                let policy = crate::revocation::live::LiveConfig::parse_ca_policy(&raw.text()?)?;
                self.revocation_ca_certificates = Some(policy);
            }
            _ => return Err(SetError::Unknown),
        }
        Ok(())
    }
}
