//! What a holder shares at login (共享注册), status events (回调), and the usage record
//! (证书使用记录) behind per-use billing and the scan report.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

/// Registration data a holder shares with a platform at login (共享注册, NETCA: "自主授权共享
/// 已实名认证的注册信息"), besides the identity the certificate states. The app shows it and
/// asks before sending; it travels in the signed answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SharedRegistration {
    /// Mobile phone (手机号).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    /// E-mail (电子邮箱).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Postal address (联系地址).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Contact person (联系人), e.g. for an organisation certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
}

impl SharedRegistration {
    /// The fields that are set, as `(label, value)` for showing to the user.
    pub fn fields(&self) -> Vec<(&'static str, &str)> {
        [
            ("手机号 Mobile", &self.mobile),
            ("电子邮箱 E-mail", &self.email),
            ("联系地址 Address", &self.address),
            ("联系人 Contact", &self.contact),
        ]
        .into_iter()
        .filter_map(|(l, v)| v.as_deref().map(|v| (l, v)))
        .collect()
    }

    /// Checks the data: at least one field, each 1–200 characters without control characters;
    /// a mobile number a phone can be reached at ([`is_mobile_number`]) and an e-mail address
    /// mail can be sent to ([`is_email_address`]).
    pub fn check(&self) -> Result<(), ProtocolError> {
        if self.fields().is_empty() {
            return Err(ProtocolError::InvalidField {
                field: "registration",
                reason: "shares no field".into(),
            });
        }
        for (label, v) in self.fields() {
            if v.trim().is_empty() || v.chars().count() > 200 || v.chars().any(char::is_control) {
                return Err(ProtocolError::InvalidField {
                    field: "registration",
                    reason: format!("{label} must be 1–200 characters without control characters"),
                });
            }
        }
        if let Some(m) = self.mobile.as_deref().filter(|m| !is_mobile_number(m)) {
            return Err(ProtocolError::InvalidField {
                field: "mobile",
                reason: format!(
                    "手机号格式不正确：“{}”。请填写 11 位手机号（如 13800138000），境外号码以 + 开头。The mobile number is not one: write 11 digits starting with 1, or an international number starting with +",
                    echo(m)
                ),
            });
        }
        if let Some(e) = self.email.as_deref().filter(|e| !is_email_address(e)) {
            return Err(ProtocolError::InvalidField {
                field: "email",
                reason: format!(
                    "电子邮箱格式不正确：“{}”。请填写如 name@example.cn 的地址。The e-mail address is not one: write it as name@example.cn",
                    echo(e)
                ),
            });
        }
        Ok(())
    }
}

/// Kinds of status events (回调类型; the predecessor scheme's callback types 01–06).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum CallbackKind {
    /// The QR was scanned.
    ScanStatus,
    /// A login user is known.
    LoginUser,
    /// A signature value arrived.
    SignatureValue,
    /// An encryption certificate arrived.
    EncryptionCert,
    /// A decryption result arrived.
    DecryptResult,
    /// Any other state change.
    StateChanged,
}

/// A status event (回调) pushed to the platform or browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallbackEvent {
    /// Transaction id.
    pub tid: Tid,
    /// New state.
    pub state: TransactionState,
    /// Unix seconds.
    pub at: i64,
    /// Kind.
    pub kind: CallbackKind,
    /// Details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
}

/// Certificate type (证书类型) of the national usage record: `orgCert` (机构证书) or
/// `personalCert` (个人证书).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum CertType {
    /// Organisation certificate.
    OrgCert,
    /// Personal certificate.
    PersonalCert,
}

/// Subject type (主体类型) of the national usage record: `personal` or `org`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum SubjectType {
    /// A person.
    Personal,
    /// An organisation.
    Org,
}

/// One use of a certificate (证书使用记录, the data behind the scan report 扫码报告), with the
/// national field names; `tid`, `usedAt`, `caOrgType` and `operator` are camr's additions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageRecord {
    /// Platform system code.
    pub trading_system_code: SystemCode,
    /// Platform name.
    pub trading_system_name: String,
    /// Certificate serial, hex.
    pub cert_sn: String,
    /// Holder name.
    pub cert_name: String,
    /// Certificate type.
    pub cert_type: CertType,
    /// Algorithm family (`SM2` or `RSA` nationally; `ECDSA_P256` is camr's extension).
    pub public_key_algorithm: PublicKeyAlgorithm,
    /// Subject type.
    pub subject_type: SubjectType,
    /// Operation.
    pub usage_scene: Operation,
    /// Transaction id (camr).
    pub tid: Tid,
    /// Unix seconds (camr).
    pub used_at: i64,
    /// CA vendor code (camr).
    pub ca_org_type: String,
    /// Staff member acting for an organisation certificate (camr).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// A login let through without a known revocation status (the platform's soft-fail
    /// policy, `docs/revocation.md`) (camr).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub revocation_unknown: bool,
}
