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
        evidence: None,
    };
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(serde_json::from_str::<Response>(&json).unwrap(), r);
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
    let all = schemas();
    assert!(all.len() >= 13);
    for (name, text) in all {
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(
            v.get("title").is_some() || v.get("$schema").is_some(),
            "{name}"
        );
    }
}
