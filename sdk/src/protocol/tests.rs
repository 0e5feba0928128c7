#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

#[test]
fn system_codes_of_the_right_shape_only() {
    for ok in ["C1100005553", "M1100000034", "A3401314520"] {
        assert_eq!(SystemCode::parse(ok).unwrap().as_str(), ok);
    }
    for bad in [
        "c1100005553",
        "C110000555",
        "C11000055530",
        "CC100005553",
        "C11000O5553",
        "",
        "C１100005553",
        " C1100005553",
    ] {
        let e = SystemCode::parse(bad).unwrap_err();
        assert_eq!(e.code(), ErrorCode::SystemCodeInvalid, "{bad}");
    }
    assert!(serde_json::from_str::<SystemCode>("\"c1100005553\"").is_err());
    assert_eq!(
        serde_json::to_string(&SystemCode::parse("C1100005553").unwrap()).unwrap(),
        "\"C1100005553\""
    );
}

#[test]
fn tids_are_system_code_plus_32_lowercase_hex() {
    let sc = SystemCode::parse("C1100005553").unwrap();
    let tid = Tid::new(&sc, [0xab; 16]);
    assert_eq!(tid.as_str().len(), 43);
    assert_eq!(Tid::parse(tid.as_str()).unwrap(), tid);
    assert_eq!(tid.system_code(), sc);
    let upper = tid.as_str().to_uppercase();
    for bad in [
        upper.as_str(),
        &tid.as_str()[..42],
        "M1100005105bf032b4ee8b94a6cb5e162737c507307x",
        "c1100005553abababababababababababababababab",
        "",
    ] {
        assert_eq!(
            Tid::parse(bad).unwrap_err().code(),
            ErrorCode::TidInvalid,
            "{bad}"
        );
    }
    // The tid from the predecessor scheme's public docking page parses.
    Tid::parse("M1100005105bf032b4ee8b94a6cb5e162737c507307").unwrap();
    let long = "C1100005553".to_string() + &"a".repeat(10_000_000);
    let msg = Tid::parse(&long).unwrap_err().to_string();
    assert!(
        msg.len() < 300,
        "error echoes too much: {} bytes",
        msg.len()
    );
}

#[test]
fn operations_have_their_national_names_and_letters() {
    let names: Vec<String> = Operation::ALL
        .iter()
        .map(|o| serde_json::to_string(o).unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "\"login\"",
            "\"messageSignature\"",
            "\"signature\"",
            "\"revokeSignature\"",
            "\"encrypt\"",
            "\"decrypt\""
        ]
    );
    for op in Operation::ALL {
        assert_eq!(Operation::from_qr_letter(op.qr_letter()), Some(op));
        assert_eq!(op.as_str().parse::<Operation>().unwrap(), op);
    }
    assert!("logout".parse::<Operation>().is_err());
    assert_eq!(Operation::from_qr_letter('X'), None);
}

#[test]
fn api_result_matches_the_manual_byte_for_byte() {
    let text = r#"{"code":200,"success":true,"data":{"verifySignatureResult":false},"msg":"","errorCode":""}"#;
    let parsed: ApiResult<serde_json::Value> = serde_json::from_str(text).unwrap();
    assert!(parsed.success);
    assert_eq!(parsed.error_code, None);
    assert_eq!(serde_json::to_string(&parsed).unwrap(), text);
    let err: ApiResult<()> = ApiResult::error(ErrorCode::QrExpired, "the QR code expired");
    let json = serde_json::to_string(&err).unwrap();
    assert!(json.contains(r#""errorCode":"QR_EXPIRED""#), "{json}");
    assert!(
        json.contains(r#""success":false"#) && json.contains(r#""data":null"#),
        "{json}"
    );
    assert!(
        serde_json::from_str::<ApiResult<()>>(
            r#"{"code":1,"success":false,"data":null,"msg":"","errorCode":"NOPE"}"#
        )
        .is_err()
    );
}

#[test]
fn error_codes_round_trip() {
    for code in ErrorCode::ALL {
        let json = serde_json::to_string(code).unwrap();
        assert_eq!(json, format!("\"{}\"", code.as_str()));
        assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), *code);
        assert_eq!(code.as_str().parse::<ErrorCode>().unwrap(), *code);
        assert!(
            code.as_str()
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b == b'_')
        );
    }
}

#[test]
fn state_machine_allows_only_the_documented_transitions() {
    use TransactionState::*;
    assert!(Created.can_transition_to(Scanned));
    assert!(!Created.can_transition_to(Approved));
    assert!(Scanned.can_transition_to(Rejected));
    assert!(Approved.can_transition_to(Verified));
    assert!(!Rejected.can_transition_to(Verified));
    for s in [Rejected, Verified, Failed, Expired, Cancelled] {
        assert!(s.is_terminal());
        for n in [
            Created, Scanned, Approved, Rejected, Verified, Failed, Expired, Cancelled,
        ] {
            assert!(!s.can_transition_to(n), "{s:?} -> {n:?}");
        }
    }
    assert!(Scanned.can_transition_to(Expired) && Created.can_transition_to(Cancelled));
}

#[test]
fn responses_parse_strictly() {
    let tid = Tid::new(&SystemCode::parse("C1100005553").unwrap(), [1; 16]);
    let r = Response {
        tid: tid.clone(),
        operation: Operation::Login,
        ca_org_type: "SOFTCA".into(),
        status: ResponseStatus::Rejected,
        request_hash: "00".repeat(32),
        reject_reason: Some("不是我".into()),
        operator: None,
        delegation: None,
        registration: None,
        qr_profile: "camr1".into(),
        evidence: None,
        vendor_evidence: None,
    };
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(serde_json::from_str::<Response>(&json).unwrap(), r);
    // An answer that names no QR profile came through the national interop code.
    let unnamed = json.replace(r#","qrProfile":"camr1""#, "");
    assert_ne!(unnamed, json);
    assert_eq!(serde_json::from_str::<Response>(&unnamed).unwrap(), r);
    let bad = json.replace("\"rejected\"", "\"maybe\"");
    assert!(serde_json::from_str::<Response>(&bad).is_err());
    let bad_tid = json.replace(tid.as_str(), "C110000555");
    assert!(serde_json::from_str::<Response>(&bad_tid).is_err());
    let payload = OperationPayload::Signature {
        items: vec![SignItem {
            id: "1".into(),
            name: "投标文件.pdf".into(),
            hash: Bytes(vec![1, 2]),
            hash_algorithm: HashAlgorithm::Sm3,
            format: SignFormat::Hash,
        }],
    };
    let json = serde_json::to_string(&payload).unwrap();
    assert!(
        json.contains(r#""type":"signature""#)
            && json.contains(r#""hashAlgorithm":"SM3""#)
            && json.contains("\"AQI=\""),
        "{json}"
    );
    assert_eq!(
        serde_json::from_str::<OperationPayload>(&json).unwrap(),
        payload
    );
    assert!(serde_json::from_str::<Bytes>("\"not base64!\"").is_err());
}

#[test]
fn every_schema_is_valid_json_with_a_title() {
    let all = crate::schemas::all();
    assert!(all.len() >= 13);
    for (name, text) in all {
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(
            v.get("title").is_some() || v.get("$schema").is_some(),
            "{name}"
        );
    }
}

fn sample_tid() -> Tid {
    Tid::new(&SystemCode::parse("C1100005553").unwrap(), [0x5a; 16])
}

#[test]
fn echoed_values_are_cut_short() {
    let garbage = "x".repeat(10_000_000);
    for msg in [
        SystemCode::parse(&garbage).unwrap_err().to_string(),
        garbage.parse::<Operation>().unwrap_err().to_string(),
        garbage.parse::<ErrorCode>().unwrap_err().to_string(),
    ] {
        assert!(
            msg.len() < 300,
            "error echoes too much: {} bytes",
            msg.len()
        );
        assert!(msg.contains('…'), "{msg}");
    }
    // Cutting never splits a character.
    let e = SystemCode::parse(&"码".repeat(100)).unwrap_err();
    assert_eq!(
        e,
        ProtocolError::InvalidSystemCode {
            value: format!("{}…", "码".repeat(64))
        }
    );
    assert!(
        e.to_string()
            .starts_with("system code (系统标识码) must be one uppercase letter and 10 digits")
    );
    assert_eq!(echo("C1100005553"), "C1100005553");
}

#[test]
fn protocol_errors_map_to_stable_codes() {
    assert_eq!(
        "nope".parse::<Operation>().unwrap_err().code(),
        ErrorCode::InputMalformed
    );
    assert_eq!(Tid::parse("x").unwrap_err().code(), ErrorCode::TidInvalid);
    let e = ProtocolError::InvalidField {
        field: "nonce",
        reason: "empty".into(),
    };
    assert_eq!(e.code(), ErrorCode::InputMalformed);
    assert_eq!(e.to_string(), "field `nonce` is invalid: empty");
}

#[test]
fn error_codes_are_unique_and_have_http_statuses() {
    let all = ErrorCode::ALL;
    for (i, a) in all.iter().enumerate() {
        assert!(
            all.iter().skip(i + 1).all(|b| b.as_str() != a.as_str()),
            "{a}"
        );
        assert!((400..600).contains(&a.default_http_status()), "{a}");
        assert_eq!(a.to_string(), a.as_str());
    }
    for s in [
        "QR_EXPIRED",
        "TX_EXPIRED",
        "SIGNATURE_INVALID",
        "CERT_REVOKED",
        "ADAPTER_UNAVAILABLE",
        "INTERNAL",
    ] {
        assert_eq!(s.parse::<ErrorCode>().unwrap().as_str(), s);
    }
    assert_eq!(ErrorCode::QrExpired.default_http_status(), 410);
    assert_eq!(ErrorCode::TxNotFound.default_http_status(), 404);
    assert_eq!(ErrorCode::Internal.default_http_status(), 500);
    assert!("qr_expired".parse::<ErrorCode>().is_err());
}

#[test]
fn api_result_ok_and_error_shapes() {
    let ok = ApiResult::ok(serde_json::json!({"verifySignatureResult": true}));
    assert_eq!(
        serde_json::to_string(&ok).unwrap(),
        r#"{"code":200,"success":true,"data":{"verifySignatureResult":true},"msg":"","errorCode":""}"#
    );
    let err: ApiResult<serde_json::Value> = ApiResult::error(ErrorCode::TxNotFound, "没有这个交易");
    let text = serde_json::to_string(&err).unwrap();
    assert_eq!(
        text,
        r#"{"code":404,"success":false,"data":null,"msg":"没有这个交易","errorCode":"TX_NOT_FOUND"}"#
    );
    assert_eq!(
        serde_json::from_str::<ApiResult<serde_json::Value>>(&text).unwrap(),
        err
    );
    // errorCode must be a string, not a number or null.
    let wrong = r#"{"code":200,"success":true,"data":null,"msg":"","errorCode":0}"#;
    assert!(serde_json::from_str::<ApiResult<serde_json::Value>>(wrong).is_err());
}

#[test]
fn state_names_and_the_full_transition_table() {
    use TransactionState::*;
    let allowed = [
        (Created, Scanned),
        (Created, Expired),
        (Created, Cancelled),
        (Scanned, Approved),
        (Scanned, Rejected),
        (Scanned, Expired),
        (Scanned, Cancelled),
        (Approved, Verified),
        (Approved, Failed),
        (Approved, Expired),
        (Approved, Cancelled),
    ];
    for a in TransactionState::ALL {
        assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{a}\""));
        assert_eq!(
            a.is_terminal(),
            !matches!(a, Created | Scanned | Approved),
            "{a}"
        );
        for b in TransactionState::ALL {
            assert_eq!(
                a.can_transition_to(b),
                allowed.contains(&(a, b)),
                "{a} -> {b}"
            );
        }
    }
}

#[test]
fn bytes_are_standard_base64() {
    let b = Bytes::from(vec![0xfb, 0xff, 0x00]);
    assert_eq!(serde_json::to_string(&b).unwrap(), "\"+/8A\"");
    assert_eq!(serde_json::from_str::<Bytes>("\"+/8A\"").unwrap(), b);
    assert_eq!(&*b, &[0xfb, 0xff, 0x00]);
    assert_eq!(b.as_ref(), &[0xfb, 0xff, 0x00]);
    for bad in ["\"-_8A\"", "\"AQ\"", "1", "null", "[1,2]"] {
        assert!(serde_json::from_str::<Bytes>(bad).is_err(), "{bad}");
    }
    assert_eq!(b.into_inner(), vec![0xfb, 0xff, 0x00]);
}

#[test]
fn payloads_are_tagged_with_the_operation_name() {
    assert_eq!(
        serde_json::to_string(&OperationPayload::Encrypt {}).unwrap(),
        r#"{"type":"encrypt"}"#
    );
    assert_eq!(
        serde_json::from_str::<OperationPayload>(r#"{"type":"login"}"#).unwrap(),
        OperationPayload::Login {
            share_registration: false
        }
    );
    let revoke = OperationPayload::RevokeSignature {
        seal_id: "s1".into(),
        document_name: "合同.pdf".into(),
        reason: None,
        items: Vec::new(),
    };
    assert_eq!(
        serde_json::to_string(&revoke).unwrap(),
        r#"{"type":"revokeSignature","sealId":"s1","documentName":"合同.pdf"}"#
    );
    let decrypt = OperationPayload::Decrypt {
        items: vec![EncryptedKeyItem {
            id: "k1".into(),
            recipient_cert_sn: "0a1b".into(),
            encrypted_key: Bytes(vec![9]),
        }],
        platform_key: Bytes(vec![0x30, 0x59]),
    };
    let text = serde_json::to_string(&decrypt).unwrap();
    assert_eq!(
        text,
        r#"{"type":"decrypt","items":[{"id":"k1","recipientCertSn":"0a1b","encryptedKey":"CQ=="}],"platformKey":"MFk="}"#
    );
    assert_eq!(
        serde_json::from_str::<OperationPayload>(&text).unwrap(),
        decrypt
    );
    assert!(serde_json::from_str::<OperationPayload>(r#"{"type":"logout"}"#).is_err());
    assert!(serde_json::from_str::<OperationPayload>(r#"{"type":"messageSignature"}"#).is_err());
}

#[test]
fn signed_request_round_trips_its_exact_text() {
    let tid = sample_tid();
    let request = RequestObject {
        tid: tid.clone(),
        system_code: tid.system_code(),
        system_name: "移动数字证书(CA)互认模拟测试系统".into(),
        operation: Operation::MessageSignature,
        nonce: Bytes(vec![7; 16]),
        issued_at: 1_700_000_000,
        expires_at: 1_700_000_120,
        response_uri: "https://platform.example/camr/response".into(),
        key_id: "7F3A09C2".into(),
        payload: OperationPayload::MessageSignature {
            message: "报价 100 万元".into(),
        },
        requires: None,
        session: None,
    };
    let text = serde_json::to_string(&request).unwrap();
    for key in [
        "\"tid\"",
        "\"systemCode\"",
        "\"systemName\"",
        "\"issuedAt\"",
        "\"expiresAt\"",
        "\"responseUri\"",
        "\"keyId\"",
    ] {
        assert!(text.contains(key), "{key} missing in {text}");
    }
    let signed = SignedRequest {
        request: text,
        key_id: "7F3A09C2".into(),
        signature: Bytes(vec![1; 64]),
    };
    assert_eq!(signed.request_object().unwrap(), request);
    let broken = SignedRequest {
        request: format!("{{\"tid\":\"{}\"", "z".repeat(5000)),
        ..signed
    };
    let e = broken.request_object().unwrap_err();
    assert_eq!(e.code(), ErrorCode::InputMalformed);
    assert!(e.to_string().len() < 400, "{e}");
}

#[test]
fn unknown_fields_are_tolerated_but_wrong_types_are_not() {
    let tid = sample_tid();
    let base = serde_json::json!({
        "tid": tid.as_str(),
        "operation": "signature",
        "caOrgType": "SOFTCA",
        "status": "approved",
        "requestHash": "ab".repeat(32),
        "evidence": {
            "algorithm": "SM2",
            "certificateChain": ["MAA="],
            "signatures": [{"itemId": "1", "signatureValue": "AQID"}],
            "itemRejections": [{"itemId": "2", "reason": "金额不对"}]
        }
    });
    let r: Response = serde_json::from_value(base.clone()).unwrap();
    let ev = r.evidence.as_ref().unwrap();
    assert_eq!(ev.algorithm, PublicKeyAlgorithm::Sm2);
    assert!(ev.decrypted_keys.is_empty());
    assert_eq!(ev.item_rejections.len(), 1);
    // Empty lists and absent options are left out when writing.
    let written = serde_json::to_string(&r).unwrap();
    assert!(
        !written.contains("decryptedKeys") && !written.contains("encryptionCertificate"),
        "{written}"
    );
    assert!(!written.contains("rejectReason"), "{written}");

    let mut extra = base.clone();
    extra["futureField"] = serde_json::json!({"x": 1});
    assert_eq!(serde_json::from_value::<Response>(extra).unwrap(), r);

    for (path, value) in [
        ("status", serde_json::json!("maybe")),
        ("status", serde_json::json!(1)),
        ("operation", serde_json::json!("LOGIN")),
        ("tid", serde_json::json!(tid.as_str().to_uppercase())),
        ("requestHash", serde_json::json!(42)),
    ] {
        let mut bad = base.clone();
        bad[path] = value;
        assert!(serde_json::from_value::<Response>(bad).is_err(), "{path}");
    }
    let mut bad_alg = base.clone();
    bad_alg["evidence"]["algorithm"] = serde_json::json!("sm2");
    assert!(serde_json::from_value::<Response>(bad_alg).is_err());
    let mut ecdsa = base;
    ecdsa["evidence"]["algorithm"] = serde_json::json!("ECDSA_P256");
    let r: Response = serde_json::from_value(ecdsa).unwrap();
    assert_eq!(r.evidence.unwrap().algorithm, PublicKeyAlgorithm::EcdsaP256);
}

#[test]
fn usage_record_uses_the_national_field_names() {
    let tid = sample_tid();
    let record = UsageRecord {
        trading_system_code: tid.system_code(),
        trading_system_name: "移动数字证书(CA)互认模拟测试系统".into(),
        cert_sn: "1a2b3c".into(),
        cert_name: "张三".into(),
        cert_type: CertType::PersonalCert,
        public_key_algorithm: PublicKeyAlgorithm::Sm2,
        subject_type: SubjectType::Personal,
        usage_scene: Operation::Login,
        tid: tid.clone(),
        used_at: 1_700_000_000,
        ca_org_type: "SOFTCA".into(),
        operator: None,
        revocation_unknown: false,
    };
    let v = serde_json::to_value(&record).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected = vec![
        "tradingSystemCode",
        "tradingSystemName",
        "certSn",
        "certName",
        "certType",
        "publicKeyAlgorithm",
        "subjectType",
        "usageScene",
        "tid",
        "usedAt",
        "caOrgType",
    ];
    expected.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(v["certType"], "personalCert");
    assert_eq!(v["subjectType"], "personal");
    assert_eq!(v["publicKeyAlgorithm"], "SM2");
    assert_eq!(v["usageScene"], "login");
    assert_eq!(serde_json::to_value(CertType::OrgCert).unwrap(), "orgCert");
    assert_eq!(serde_json::to_value(SubjectType::Org).unwrap(), "org");
    assert_eq!(serde_json::from_value::<UsageRecord>(v).unwrap(), record);
}

#[test]
fn qr_payload_and_events_serialise_camel_case() {
    let tid = sample_tid();
    let qr = QrPayload {
        version: 1,
        tid: tid.clone(),
        operation: Operation::Decrypt,
        expires_at: 1_700_000_120,
        key_id: "7F3A09C2".into(),
        request_uri: "https://platform.example/r/1".into(),
        signature: Bytes(vec![2; 64]),
        rotation: Some(QrRotation {
            step: 3,
            mac: Bytes(vec![3; 8]),
        }),
    };
    assert_eq!(qr.system_code().as_str(), "C1100005553");
    let v = serde_json::to_value(&qr).unwrap();
    assert_eq!(v["expiresAt"], 1_700_000_120);
    assert_eq!(v["requestUri"], "https://platform.example/r/1");
    assert_eq!(v["rotation"]["step"], 3);
    assert_eq!(serde_json::from_value::<QrPayload>(v).unwrap(), qr);

    let ev = CallbackEvent {
        tid: tid.clone(),
        state: TransactionState::Scanned,
        at: 1_700_000_001,
        kind: CallbackKind::ScanStatus,
        detail: Some(serde_json::json!({"isScaned": "01"})),
    };
    let v = serde_json::to_value(&ev).unwrap();
    assert_eq!(v["kind"], "scanStatus");
    assert_eq!(v["state"], "scanned");
    assert_eq!(serde_json::from_value::<CallbackEvent>(v).unwrap(), ev);
    let kinds: Vec<serde_json::Value> = [
        CallbackKind::ScanStatus,
        CallbackKind::LoginUser,
        CallbackKind::SignatureValue,
        CallbackKind::EncryptionCert,
        CallbackKind::DecryptResult,
        CallbackKind::StateChanged,
    ]
    .iter()
    .map(|k| serde_json::to_value(k).unwrap())
    .collect();
    assert_eq!(
        kinds,
        [
            "scanStatus",
            "loginUser",
            "signatureValue",
            "encryptionCert",
            "decryptResult",
            "stateChanged"
        ]
    );

    let tx = Transaction {
        tid: tid.clone(),
        system_code: tid.system_code(),
        operation: Operation::Signature,
        state: TransactionState::Created,
        created_at: 1,
        expires_at: 2,
        ca_org_type: None,
        message: None,
    };
    let text = serde_json::to_string(&tx).unwrap();
    assert_eq!(
        text,
        format!(
            r#"{{"tid":"{tid}","systemCode":"C1100005553","operation":"signature","state":"created","createdAt":1,"expiresAt":2}}"#
        )
    );
    assert_eq!(serde_json::from_str::<Transaction>(&text).unwrap(), tx);
}

#[test]
fn schemas_are_sorted_and_carry_the_identifier_patterns() {
    let all = crate::schemas::all();
    let names: Vec<&str> = all.iter().map(|(n, _)| *n).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(names, sorted);
    assert_eq!(all, crate::schemas::all(), "schemas must be deterministic");
    for want in [
        "ApiResult",
        "CallbackEvent",
        "ErrorCode",
        "Operation",
        "QrPayload",
        "RequestObject",
        "Response",
        "SignedRequest",
        "SystemCode",
        "Tid",
        "Transaction",
        "TransactionState",
        "UsageRecord",
    ] {
        assert!(
            names.contains(&format!("{want}.schema.json").as_str()),
            "{want}"
        );
    }
    let find = |n: &str| {
        serde_json::from_str::<serde_json::Value>(
            &all.iter().find(|(name, _)| *name == n).unwrap().1,
        )
        .unwrap()
    };
    assert_eq!(
        find("SystemCode.schema.json")["pattern"],
        "^[A-Z][0-9]{10}$"
    );
    assert_eq!(
        find("Tid.schema.json")["pattern"],
        "^[A-Z][0-9]{10}[0-9a-f]{32}$"
    );
    let qr = find("QrPayload.schema.json");
    assert_eq!(qr["$defs"]["Bytes"]["contentEncoding"], "base64");
    assert!(all.iter().all(|(_, text)| text.ends_with("}\n")));
}

#[test]
fn registration_data_must_be_a_mobile_number_and_an_e_mail_address() {
    for ok in [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+8613800138000",
        "+86 138 0013 8000",
        "+85291234567",
        "+1 415 555 0100",
    ] {
        assert!(is_mobile_number(ok), "{ok}");
    }
    for bad in [
        "abc",
        "",
        "12345",
        "1380013800",
        "23800138000",
        "+86 123",
        "138001380000",
        "+",
        "+ 1385",
    ] {
        assert!(!is_mobile_number(bad), "{bad}");
    }
    for ok in [
        "zhangsan@example.cn",
        "a.b+c@mail.example.com.cn",
        "王@例子.中国",
    ] {
        assert!(is_email_address(ok), "{ok}");
    }
    for bad in [
        "not-an-email",
        "a@b",
        "@example.cn",
        "a@@example.cn",
        "a b@example.cn",
        "a@-x.cn",
        "a@x..cn",
        ".a@x.cn",
    ] {
        assert!(!is_email_address(bad), "{bad}");
    }
    let shared = |mobile: &str, email: &str| SharedRegistration {
        mobile: Some(mobile.into()),
        email: Some(email.into()),
        ..Default::default()
    };
    assert!(shared("13800138000", "zhangsan@example.cn").check().is_ok());
    let e = shared("abc", "zhangsan@example.cn").check().unwrap_err();
    assert_eq!(e.code(), ErrorCode::InputMalformed);
    assert!(e.to_string().contains("手机号格式不正确"), "{e}");
    let e = shared("13800138000", "not-an-email").check().unwrap_err();
    assert!(e.to_string().contains("电子邮箱格式不正确"), "{e}");
}
