//! A sentence for people per error code (错误提示): Chinese first, English beside it, for a
//! page or an app to show where the user acted. The sentences are general — no codes, field
//! names, dates or sizes — so they read well on their own; the answer's `msg` carries the
//! particulars of one refusal, and the code belongs in a small detail line.
//!
//! The match below is exhaustive inside this crate: a new [`ErrorCode`] does not compile
//! without its sentences.

use super::ErrorCode;

impl ErrorCode {
    /// The Chinese sentence for people (简体中文), e.g. 开标时间未到，暂不能解密。
    pub fn message_zh(self) -> &'static str {
        self.messages().0
    }

    /// The English sentence for people, beside the Chinese one.
    pub fn message_en(self) -> &'static str {
        self.messages().1
    }

    fn messages(self) -> (&'static str, &'static str) {
        use ErrorCode::*;
        match self {
            InputMalformed => (
                "提交的内容不符合要求，请检查后重试。",
                "What was sent is not in the expected form; check it and try again.",
            ),
            KeyMalformed => (
                "密钥无法读取，请确认选择了正确的密钥文件。",
                "The key cannot be read; check that you chose the right key file.",
            ),
            KeyPasswordRequired => (
                "该密钥已加密，请输入密钥口令。",
                "The key is encrypted; enter its password.",
            ),
            KeyPasswordWrong => (
                "密钥口令不正确，请重新输入。",
                "The key's password is wrong; enter it again.",
            ),
            PinLocked => (
                "PIN 码错误次数过多，证书已锁定，请联系 CA 机构解锁。",
                "Too many wrong PINs: the certificate is locked. Ask your CA to unlock it.",
            ),
            UnsupportedAlgorithm => (
                "不支持该证书或文件所用的密码算法。",
                "The cryptographic algorithm of this certificate or file is not supported.",
            ),
            SignatureInvalid => (
                "签名验证未通过：签名与内容不符，或内容已被改动。",
                "The signature does not verify: it does not match the content, or the content was changed.",
            ),
            DecryptionFailed => (
                "解密失败：证书不对应，或文件已损坏。",
                "Decryption failed: another certificate is needed, or the file is damaged.",
            ),
            RandomFailed => (
                "平台暂时无法完成操作，请稍后重试。",
                "The platform cannot do this right now; try again later.",
            ),
            QrMalformed => (
                "无法识别该二维码，请扫描本平台页面上的二维码。",
                "This QR code cannot be read; scan the code shown on this platform's page.",
            ),
            QrExpired => (
                "二维码已过期，请刷新页面后重新扫码。",
                "The QR code has expired; refresh the page and scan again.",
            ),
            QrSignatureInvalid => (
                "二维码校验未通过，可能不是本平台发出的，请勿继续。",
                "The QR code does not check out and may not come from this platform; do not go on.",
            ),
            QrStepStale => (
                "二维码已刷新，请扫描页面上最新的二维码。",
                "The QR code has changed; scan the one the page shows now.",
            ),
            QrTooLarge => (
                "内容过多，无法放入二维码。",
                "Too much content to fit in a QR code.",
            ),
            SystemCodeInvalid => (
                "系统标识码格式不正确。",
                "The system code is not in the right form.",
            ),
            TidInvalid => (
                "业务编号格式不正确，请从页面重新发起。",
                "The transaction number is not in the right form; start again from the page.",
            ),
            TxNotFound => (
                "找不到该业务，可能已过期，请重新发起。",
                "This transaction cannot be found (it may have expired); start again.",
            ),
            TxExpired => (
                "本次业务已超时，请重新发起。",
                "This transaction timed out; start again.",
            ),
            TxAlreadyAnswered => (
                "该二维码已被使用，请重新发起。",
                "This QR code has been used already; start again.",
            ),
            TxCancelled => ("本次业务已取消。", "This transaction was cancelled."),
            TxRejected => (
                "已在手机上拒绝本次请求。",
                "The request was rejected on the phone.",
            ),
            TxPending => (
                "尚未完成扫码确认，请先在手机上确认。",
                "Not confirmed yet; confirm on the phone first.",
            ),
            TxNotOwner => (
                "无权查看该业务：只有发起人或平台管理员可以查看。",
                "You may not see this transaction: only whoever started it or the operator may.",
            ),
            TxNotScanned => (
                "请先用手机扫描页面上的二维码。",
                "Scan the QR code on the page with your phone first.",
            ),
            TxAlreadyTaken => (
                "该结果只能取用一次，已被取用。",
                "This result can be taken once only, and it was taken already.",
            ),
            StateConflict => (
                "操作冲突，请稍后重试。",
                "Another change came at the same moment; try again.",
            ),
            TxFailed => (
                "验证未通过，本次业务已结束，请重新发起。",
                "The answer did not verify and this transaction has ended; start again.",
            ),
            TidMismatch => (
                "手机的应答与本次业务不符，请重新扫码。",
                "The phone answered another transaction; scan again.",
            ),
            RequestHashMismatch => (
                "手机的应答与本次请求内容不符，请重新扫码。",
                "The phone's answer does not match this request; scan again.",
            ),
            AnswerVersionUnsupported => (
                "手机 App 版本过旧，请升级后重试。",
                "The phone app is too old; update it and try again.",
            ),
            QrProfileMismatch => (
                "应答方式与二维码类型不符，请用对应的 App 重新扫码。",
                "The answer came by another route than this QR code's; scan again with the matching app.",
            ),
            EncryptionCertMismatch => (
                "加密证书与签名证书不配对，请使用同一 CA 的双证书。",
                "The encryption certificate is not the signing certificate's pair; use both certificates from one CA.",
            ),
            CertMalformed => ("证书无法读取。", "The certificate cannot be read."),
            CertExpired => (
                "证书已过期，请到 CA 机构办理续期。",
                "The certificate has expired; renew it with your CA.",
            ),
            CertNotYetValid => (
                "证书尚未生效，请在生效日期后再试。",
                "The certificate is not valid yet; try again once it is.",
            ),
            CertRevoked => (
                "证书已被吊销，不能再使用。",
                "The certificate is revoked and can no longer be used.",
            ),
            CertFrozen => (
                "证书已冻结，请联系 CA 机构解冻。",
                "The certificate is frozen (on hold); ask your CA to release it.",
            ),
            CertUntrusted => (
                "证书不是本平台信任的 CA 机构签发的。",
                "The certificate is not issued by a CA this platform trusts.",
            ),
            CertWrongUsage => (
                "该证书不能用于此操作（签名证书与加密证书用途不同）。",
                "This certificate is not for this use (signing and encryption certificates differ).",
            ),
            CertRevocationUnknown => (
                "暂时无法确认证书是否已吊销，请稍后重试。",
                "Whether the certificate is revoked cannot be told right now; try again later.",
            ),
            CertPathBudgetExceeded => (
                "证书链过于复杂，无法验证。",
                "The certificate chain is too complex to check.",
            ),
            CrlSignatureInvalid => (
                "证书吊销列表的签名无效，暂时无法确认证书状态。",
                "The revocation list's signature is invalid; the certificate's status cannot be told.",
            ),
            CrlStale => (
                "证书吊销列表已过期，暂时无法确认证书状态，请稍后重试。",
                "The revocation list is out of date; the certificate's status cannot be told. Try again later.",
            ),
            OcspResponseInvalid => (
                "证书状态查询的应答无效，请稍后重试。",
                "The certificate status answer is invalid; try again later.",
            ),
            OcspCertMismatch => (
                "证书状态查询的应答与该证书不符。",
                "The certificate status answer is about another certificate.",
            ),
            OcspStale => (
                "证书状态查询的应答已过时，请稍后重试。",
                "The certificate status answer is out of date; try again later.",
            ),
            OcspNonceMismatch => (
                "证书状态查询的应答不是本次查询的结果。",
                "The certificate status answer is not the answer to this query.",
            ),
            OcspResponderUnauthorized => (
                "证书状态查询的应答方未经 CA 授权。",
                "The certificate status answer comes from a responder the CA did not authorise.",
            ),
            TimestampInvalid => (
                "时间戳无效或时间戳服务拒绝了请求。",
                "The time-stamp is invalid, or the time-stamping service refused the request.",
            ),
            TimestampImprintMismatch => (
                "时间戳与文件内容不符。",
                "The time-stamp is over other content than this file.",
            ),
            TimestampTsaUnauthorized => (
                "时间戳的签发方不是时间戳服务机构。",
                "The time-stamp's signer is not a time-stamping authority.",
            ),
            RevocationSourceUnavailable => (
                "暂时无法连接证书状态服务，请稍后重试。",
                "The certificate status service cannot be reached right now; try again later.",
            ),
            CertNotEntitled => (
                "本平台不接受该证书办理此业务。",
                "This platform does not accept this certificate for this.",
            ),
            DelegationOutOfScope => (
                "超出授权委托的范围。",
                "This is beyond what the delegation allows.",
            ),
            BidOpeningNotReached => (
                "开标时间未到，暂不能解密投标文件。",
                "The bid-opening time is not reached yet; bids cannot be decrypted before it.",
            ),
            BidderNotSignedIn => (
                "投标人尚未签到，请先在开标大厅扫码签到，再解密。",
                "The bidder has not signed in; sign in in the bid-opening hall first, then decrypt.",
            ),
            BidNotSubmitted => (
                "该文件不是递交到本项目的投标文件，不能在此解密。",
                "This file is not a bid submitted to this tender and cannot be decrypted here.",
            ),
            BidExists => (
                "该投标文件已经递交过，无需重复递交。",
                "This bid file was submitted already.",
            ),
            BidSubmissionClosed => (
                "投标已截止：开标时间已到，逾期送达的投标文件不予接收。",
                "Bid submission has closed at the bid-opening time; a late bid is refused.",
            ),
            TenderNotFound => (
                "没有找到该招标项目，请核对项目编号。",
                "No such tender; check the tender's number.",
            ),
            TenderExists => (
                "该项目编号已被另一个招标项目使用。",
                "This tender number is used by another tender already.",
            ),
            BidNotFound => (
                "没有找到该投标文件，请刷新开标大厅后重试。",
                "No such bid; reload the bid-opening hall and try again.",
            ),
            AccountPending => (
                "您的注册正在等待平台审核，审核通过后即可登录。",
                "Your registration waits for the platform's approval; you can log in once it is approved.",
            ),
            AccountExists => (
                "该证书已注册或已提交注册，无需重复注册。",
                "This certificate is registered (or its registration was submitted) already.",
            ),
            AccountNotFound => ("找不到该账户。", "There is no such account."),
            EnvelopeMalformed => (
                "文件不是有效的数字信封或签名文件，请确认选择了正确的文件。",
                "The file is not a valid digital envelope or signed file; check that you chose the right one.",
            ),
            EnvelopeNoRecipient => (
                "该数字信封不是为您的证书加密的，请使用加密时所用的证书。",
                "This envelope was not encrypted for your certificate; use the certificate it was encrypted for.",
            ),
            PdfMalformed => (
                "文件不是有效的 PDF 或已损坏，请选择其他 PDF 文件。",
                "The file is not a valid PDF, or it is damaged; choose another PDF.",
            ),
            PdfEncrypted => (
                "PDF 已加密，请先取消加密再签章。",
                "The PDF is encrypted; remove its encryption before sealing.",
            ),
            PdfLocked => (
                "该 PDF 已被锁定（认证签名禁止修改），不能再签章。",
                "The PDF is locked by a certifying signature and cannot take more seals.",
            ),
            PdfSignatureTooLarge => (
                "签名数据过大，无法放入 PDF 预留的位置。",
                "The signature is too large for the space reserved in the PDF.",
            ),
            PdfRevokeDenied => (
                "只有签章人本人或授权机构可以撤销该印章。",
                "Only whoever applied the seal, or an authority, may revoke it.",
            ),
            SessionMismatch => (
                "签章会话与当前证书不符，请使用授权本次会话的证书。",
                "The seal session belongs to another certificate; use the one that authorised it.",
            ),
            SealSetIncomplete => (
                "文件要求的印章尚未全部加盖，不能完成签章。",
                "Not every seal the document requires is applied; sealing cannot be finished.",
            ),
            AdapterUnavailable => (
                "该 CA 机构的服务暂不可用，请稍后重试。",
                "The CA's service is not available right now; try again later.",
            ),
            AdapterFailed => (
                "CA 机构的服务出错，请稍后重试。",
                "The CA's service failed; try again later.",
            ),
            AdapterTimeout => (
                "CA 机构的服务响应超时，请稍后重试。",
                "The CA's service did not answer in time; try again later.",
            ),
            PlatformUnknown => (
                "该平台不在可信平台名单中，请勿继续。",
                "This platform is not on the trusted list; do not go on.",
            ),
            RegistryInvalid => (
                "可信平台名单无效或已过期。",
                "The trusted platform list is invalid or out of date.",
            ),
            AuditBroken => (
                "平台审计记录校验未通过，请联系平台管理员。",
                "The platform's audit log does not check out; contact the operator.",
            ),
            RateLimited => (
                "操作过于频繁，请稍后再试。",
                "Too many requests; wait a moment and try again.",
            ),
            TooManyPending => (
                "平台当前繁忙，请稍后重试。",
                "The platform is busy right now; try again later.",
            ),
            RequestTimeout => (
                "平台响应超时，请稍后重试。",
                "The platform did not answer in time; try again later.",
            ),
            Unauthorized => (
                "未授权：管理令牌缺失或不正确。",
                "Not authorised: the admin token is missing or wrong.",
            ),
            Internal => (
                "平台内部错误，请稍后重试；如仍失败，请联系平台管理员。",
                "Something went wrong on the platform's side; try again later, or contact the operator.",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_han(s: &str) -> bool {
        s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    }

    /// Every code has a Chinese sentence and an English one, both for people: no code, no
    /// backticks, no digits (dates and sizes belong to the particulars, readable there).
    #[test]
    fn every_code_has_a_chinese_and_an_english_sentence_for_people() {
        assert!(ErrorCode::ALL.len() > 70, "{}", ErrorCode::ALL.len());
        for &code in ErrorCode::ALL {
            let (zh, en) = (code.message_zh(), code.message_en());
            assert!(has_han(zh), "{code}: no Chinese sentence: {zh:?}");
            assert!(zh.ends_with('。'), "{code}: a whole sentence: {zh:?}");
            assert!(!en.is_empty() && !has_han(en), "{code}: English: {en:?}");
            assert!(en.ends_with('.'), "{code}: a whole sentence: {en:?}");
            for s in [zh, en] {
                assert!(!s.contains('`'), "{code}: backticks in {s:?}");
                assert!(!s.contains(code.as_str()), "{code}: the code in {s:?}");
                assert!(!s.contains('_'), "{code}: a field name in {s:?}");
                assert!(!s.chars().any(|c| c.is_ascii_digit()), "{code}: {s:?}");
            }
        }
    }

    #[test]
    fn the_sentences_differ_per_code() {
        let mut seen = std::collections::HashMap::new();
        for &code in ErrorCode::ALL {
            let other = seen.insert(code.message_zh(), code);
            assert!(
                other.is_none(),
                "{code} and {other:?} share {:?}",
                code.message_zh()
            );
        }
    }
}
