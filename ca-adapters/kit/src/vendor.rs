//! The whole adapter of a vendor whose cloud answers the kit's calls ([`crate::calls`]) and
//! whose only own part is its wire format: [`CloudAdapter`] implements every `AdapterImpl`
//! method from the few facts a [`Vendor`] states. Every seed vendor is one: softca, Epoint,
//! XJCA and NETCA as they are; GDCA with its own encryption-certificate call (a holder's
//! certificate history), BJCA with SM2 alone (co-signing). A vendor whose cloud differs more
//! writes its own `AdapterImpl` with the same [`crate::calls`].

use std::marker::PhantomData;
use std::sync::Arc;

use camr::protocol::{Evidence, Operation};
use camr_plugin_abi::{AdapterError, AdapterImpl, AdapterInfo, CertStatus};

use crate::{Cloud, CloudConfig, CloudSlot, calls};

/// What a vendor states; the rest of its adapter is [`CloudAdapter`].
pub trait Vendor: 'static {
    /// The vendor code (`caOrgType`).
    const CA_ORG_TYPE: &'static str;
    /// The vendor's name, for the platform's adapter list.
    const VENDOR_NAME: &'static str;
    /// The adapter crate's version (`env!("CARGO_PKG_VERSION")` there).
    const VERSION: &'static str;
    /// How error messages name the vendor's cloud.
    const CLOUD: &'static str;
    /// Where each use is posted (按量扣费: the cloud bills the certificate and, for a seal,
    /// the seal). A failure there is the caller's to log: the platform never lets it block
    /// the user's operation.
    const USAGE_PATH: &'static str = "/usage";
    /// Where the holder's seals are read (`?serial=` the signing certificate's `certSn`).
    const SEALS_PATH: &'static str = "/seals";
    /// The key algorithms the vendor's certificates use.
    const ALGORITHMS: &'static [&'static str] = &["SM2", "RSA", "ECDSA_P256"];
    /// The prefix of the vendor's seal codes in place of the shared cloud code's `SOFTCA-`
    /// (`None`: the cloud's codes are the vendor's already).
    const SEAL_PREFIX: Option<&'static str>;
    /// Strict decoding of the app's answer to `operation` (the vendor's wire crate).
    fn decode(operation: &str, raw: &[u8]) -> Result<Evidence, AdapterError>;

    /// The holder's encryption certificate (DER): by default the kit's `GET /enc-cert`
    /// ([`calls::fetch_encryption_cert`]).
    fn fetch_encryption_cert(
        cloud: impl calls::GetCloud,
        subject_json: &str,
    ) -> Result<Vec<u8>, AdapterError> {
        calls::fetch_encryption_cert(cloud, subject_json)
    }
}

/// `code` with the shared cloud code's `SOFTCA-` prefix replaced by `prefix`.
pub fn seal_code(prefix: &str, code: &str) -> String {
    match code.strip_prefix("SOFTCA-") {
        Some(rest) => format!("{prefix}{rest}"),
        None => code.to_string(),
    }
}

/// The adapter of vendor `V`: its wire format in, the kit's cloud calls out.
pub struct CloudAdapter<V> {
    cloud: CloudSlot,
    vendor: PhantomData<fn() -> V>,
}

impl<V> Default for CloudAdapter<V> {
    fn default() -> Self {
        Self {
            cloud: CloudSlot::default(),
            vendor: PhantomData,
        }
    }
}

impl<V: Vendor> std::fmt::Debug for CloudAdapter<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CloudAdapter({})", V::CA_ORG_TYPE)
    }
}

impl<V: Vendor> CloudAdapter<V> {
    /// A new, unconfigured adapter.
    pub fn new() -> Self {
        Self::default()
    }

    fn cloud(&self) -> Result<Arc<Cloud>, AdapterError> {
        self.cloud.get(V::CLOUD)
    }
}

impl<V: Vendor> AdapterImpl for CloudAdapter<V> {
    fn info(&self) -> AdapterInfo {
        AdapterInfo {
            ca_org_type: V::CA_ORG_TYPE.into(),
            vendor_name: V::VENDOR_NAME.into(),
            adapter_version: V::VERSION.into(),
            operations: Operation::ALL
                .iter()
                .map(|o| o.as_str().to_string())
                .collect(),
            algorithms: V::ALGORITHMS.iter().map(|a| a.to_string()).collect(),
        }
    }

    fn configure(&self, config_json: &str) -> Result<(), AdapterError> {
        self.cloud
            .configure(V::CLOUD, &CloudConfig::parse(config_json)?)
    }

    fn decode_evidence(&self, operation: &str, raw: &[u8]) -> Result<String, AdapterError> {
        calls::evidence_json(&V::decode(operation, raw)?)
    }

    fn fetch_encryption_cert(&self, subject_json: &str) -> Result<Vec<u8>, AdapterError> {
        V::fetch_encryption_cert(|| self.cloud(), subject_json)
    }

    fn cert_status(&self, cert_der: &[u8]) -> Result<CertStatus, AdapterError> {
        calls::cert_status(|| self.cloud(), cert_der)
    }

    fn push_task(&self, user_json: &str, request_json: &str) -> Result<String, AdapterError> {
        calls::push_task(|| self.cloud(), user_json, request_json)
    }

    fn poll_task(&self, handle: &str) -> Result<String, AdapterError> {
        calls::poll_task(|| self.cloud(), handle)
    }

    fn report_usage(&self, record_json: &str) -> Result<(), AdapterError> {
        calls::report_usage(|| self.cloud(), V::USAGE_PATH, record_json)
    }

    fn list_seals(&self, subject_json: &str) -> Result<String, AdapterError> {
        let seals = calls::list_seals(|| self.cloud(), V::SEALS_PATH, subject_json)?;
        Ok(match V::SEAL_PREFIX {
            Some(prefix) => calls::seals_json(seals, |code| seal_code(prefix, code)),
            None => calls::seals_json(seals, str::to_string),
        })
    }
}
