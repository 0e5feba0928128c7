//! Verifying every seal of a PDF: integrity of the byte ranges, the CMS signature, the
//! signer's chain, and what later revisions changed.

use std::collections::{BTreeMap, BTreeSet};

use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier};
use der::Encode;
use der::asn1::{ObjectIdentifier, OctetString};
use lopdf::{Dictionary, Document, Object, ObjectId};

use super::SealError;
use super::changes::{Change, later_changes};
use super::pdf::{decode_text, find, load};
use super::report::{PdfReport, Revocation, SealReport, SealWidget};
use super::sign::range_digest;
use crate::crypto::{CryptoProvider, HashAlgorithm, PublicKeyAlgorithm, SignatureScheme};
use crate::envelope::ATTR_SIGNING_CERTIFICATE_V2;
use crate::envelope::oid;
use crate::pki::{
    Certificate, ChainValidator, KeyPurpose, RecordedSignature, TimeEvidence, ValidationTime,
};

/// Lists and checks every seal of `pdf`. With a `validator`, each signer's chain is
/// validated for signing at `at`; without one, `trusted` is `None`. A revocation (撤章) is
/// honoured when signed by the seal's own signer ([`verify_with_authorities`] adds
/// authorities).
pub fn verify(
    provider: &dyn CryptoProvider,
    pdf: &[u8],
    validator: Option<&ChainValidator>,
    at: i64,
) -> Result<PdfReport, SealError> {
    verify_with_authorities(provider, pdf, validator, at, &[])
}

/// [`verify_with_authorities`] with signing-time evidence: a seal whose signature value is
/// one of `records` (what the platform verified and recorded, see
/// [`crate::pki::RecordedSignature`]) has its chain validated at the recorded time with the
/// CRLs known at `at` ([`ChainValidator::validate_at_signing_time`]); `status_now` then says
/// what the chain is at `at`. A seal with no record is validated at `at`.
pub fn verify_with_records(
    provider: &dyn CryptoProvider,
    pdf: &[u8],
    validator: Option<&ChainValidator>,
    at: i64,
    authorities: &[Certificate],
    records: &[RecordedSignature],
) -> Result<PdfReport, SealError> {
    verify_inner(provider, pdf, validator, at, authorities, records)
}

/// Whether `revoker` may revoke a seal signed by `signer`: the same certificate, a renewed
/// one (same subject and issuer names), or one whose key is an `authorities` certificate's.
pub fn may_revoke(
    signer: &Certificate,
    revoker: &Certificate,
    authorities: &[Certificate],
) -> bool {
    let (s, r) = (
        signer.x509().tbs_certificate(),
        revoker.x509().tbs_certificate(),
    );
    signer == revoker
        || (s.subject() == r.subject() && s.issuer() == r.issuer())
        || is_authority(revoker, authorities)
}

fn is_authority(revoker: &Certificate, authorities: &[Certificate]) -> bool {
    let key = revoker.public_key().ok();
    authorities
        .iter()
        .any(|a| a == revoker || (key.is_some() && a.public_key().ok() == key))
}

/// The signer certificate of the seal in field `field` (read from its CMS, whether or not
/// the seal is still intact).
pub fn signer_of(
    provider: &dyn CryptoProvider,
    pdf: &[u8],
    field: &str,
) -> Result<Certificate, SealError> {
    let doc = load(pdf)?;
    let f = sig_fields(&doc)
        .into_iter()
        .find(|f| f.name == field)
        .ok_or_else(|| SealError::invalid(format!("the document has no seal named `{field}`")))?;
    let contents = f
        .sig
        .get(b"Contents")
        .and_then(Object::as_str)
        .unwrap_or_default();
    let br = byte_range_of(&f.sig);
    let unreadable = |e: String| SealError::malformed(format!("seal `{field}`: {e}"));
    let br = check_byte_range(pdf, &br).map_err(unreadable)?;
    match check_cms(provider, pdf, &br, contents) {
        Ok((cert, _, _, _)) => Ok(cert),
        Err((Some(cert), _)) => Ok(*cert),
        Err((None, e)) => Err(unreadable(e)),
    }
}

pub(crate) fn sig_fields(doc: &Document) -> Vec<SigField> {
    let mut fields = Vec::new();
    if let Ok(catalog) = doc.catalog()
        && let Ok((_, Object::Dictionary(acro))) =
            catalog.get(b"AcroForm").and_then(|o| doc.dereference(o))
        && let Ok((_, Object::Array(list))) = acro.get(b"Fields").and_then(|o| doc.dereference(o))
    {
        collect_sig_fields(doc, list, "", None, 0, &mut fields);
    }
    fields
}

/// [`verify`], honouring revocations (撤章) signed by one of `authorities` (matched by
/// certificate or public key) as well as by each seal's own signer.
pub fn verify_with_authorities(
    provider: &dyn CryptoProvider,
    pdf: &[u8],
    validator: Option<&ChainValidator>,
    at: i64,
    authorities: &[Certificate],
) -> Result<PdfReport, SealError> {
    verify_inner(provider, pdf, validator, at, authorities, &[])
}

fn verify_inner(
    provider: &dyn CryptoProvider,
    pdf: &[u8],
    validator: Option<&ChainValidator>,
    at: i64,
    authorities: &[Certificate],
    records: &[RecordedSignature],
) -> Result<PdfReport, SealError> {
    let doc = load(pdf)?;
    let pages: BTreeMap<ObjectId, u32> =
        doc.get_pages().into_iter().map(|(n, id)| (id, n)).collect();
    let eofs = eof_offsets(pdf);
    let fields = sig_fields(&doc);
    let mut checked: Vec<Checked> = fields
        .iter()
        .map(|field| {
            check_seal(
                provider,
                &doc,
                pdf,
                &pages,
                &eofs,
                field,
                validator.map(|v| (v, records)),
                at,
            )
        })
        .collect();
    apply_revocations(&mut checked, &fields, authorities);
    let mut seals: Vec<SealReport> = checked.into_iter().map(|c| c.report).collect();
    seals.sort_by_key(|s| s.byte_range.get(1).copied().unwrap_or(0));
    let all_valid = !seals.is_empty() && seals.iter().all(|s| s.valid);
    Ok(PdfReport {
        file_length: pdf.len(),
        pages: pages.len(),
        revisions: eofs.len(),
        seals,
        all_valid,
    })
}

/// Each `%%EOF` marker: (offset just past it, offset past its end-of-line).
fn eof_offsets(pdf: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(p) = find(pdf, b"%%EOF", at) {
        let mut end = p + 5;
        while pdf.get(end).is_some_and(|b| *b == b'\r' || *b == b'\n') {
            end += 1;
        }
        out.push((p + 5, end));
        at = p + 5;
    }
    out
}

pub(crate) struct SigField {
    pub(crate) name: String,
    sig: Dictionary,
    /// (widget object, page object, rectangle).
    pub(crate) widgets: Vec<(Option<ObjectId>, Option<ObjectId>, [f32; 4])>,
}

/// A checked seal: the report, the later changes, and what revocations need.
struct Checked {
    report: SealReport,
    changes: Vec<Change>,
    signer: Option<Certificate>,
    signed_end: usize,
}

/// Marks seals revoked by a later revocation signed by their signer or an authority; the
/// hidden widgets of a revoked seal are then no modification for any seal. A revocation by
/// anyone else is reported on the seal it tried to hide.
fn apply_revocations(checked: &mut [Checked], fields: &[SigField], authorities: &[Certificate]) {
    let mut hidden_ok = BTreeSet::new();
    let mut refused: Vec<(usize, String)> = Vec::new();
    for t in 0..checked.len() {
        let name = checked[t].report.field_name.clone();
        for r in 0..checked.len() {
            let rev = &checked[r];
            if r == t
                || rev.report.revokes.as_deref() != Some(name.as_str())
                || !rev.report.integrity
                || rev.report.trusted == Some(false)
                || rev.signed_end <= checked[t].signed_end
            {
                continue;
            }
            let (Some(target_signer), Some(revoker)) = (&checked[t].signer, &rev.signer) else {
                continue;
            };
            if may_revoke(target_signer, revoker, authorities) {
                let by_authority = !may_revoke(target_signer, revoker, &[]);
                let revocation = Revocation {
                    by_field: rev.report.field_name.clone(),
                    by: rev.report.signer.clone(),
                    by_authority,
                    claimed_time: rev.report.claimed_time.clone(),
                    reason: rev.report.reason.clone(),
                };
                checked[t].report.revoked = Some(revocation);
                hidden_ok.extend(fields[t].widgets.iter().filter_map(|w| w.0));
                break;
            }
            refused.push((
                t,
                format!(
                    "{} tried to revoke this seal in {} but is neither its signer nor an authority",
                    rev.report
                        .signer
                        .as_ref()
                        .map(|s| s.name.as_str())
                        .unwrap_or("?"),
                    rev.report.field_name
                ),
            ));
        }
    }
    for c in checked.iter_mut() {
        c.changes
            .retain(|ch| ch.widget.is_none_or(|w| !hidden_ok.contains(&w)));
    }
    for (t, text) in refused {
        if checked[t].report.revoked.is_none() {
            checked[t].changes.push(Change { text, widget: None });
        }
    }
    for c in checked.iter_mut() {
        let r = &mut c.report;
        r.modifications = c.changes.iter().map(|ch| ch.text.clone()).collect();
        r.modified_after_signing = !r.modifications.is_empty();
        r.valid = r.integrity
            && !r.modified_after_signing
            && r.trusted != Some(false)
            && r.revoked.is_none();
    }
}

/// `/ByteRange` of a signature dictionary: its non-negative integers.
fn byte_range_of(sig: &Dictionary) -> Vec<u64> {
    sig.get(b"ByteRange")
        .and_then(Object::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|o| o.as_i64().ok())
                .filter_map(|v| u64::try_from(v).ok())
                .collect()
        })
        .unwrap_or_default()
}

fn rect_of(d: &Dictionary) -> [f32; 4] {
    let v: Vec<f32> = d
        .get(b"Rect")
        .and_then(Object::as_array)
        .map(|a| a.iter().filter_map(|o| o.as_float().ok()).collect())
        .unwrap_or_default();
    if v.len() == 4 {
        [v[0], v[1], v[2], v[3]]
    } else {
        [0.0; 4]
    }
}

fn collect_sig_fields(
    doc: &Document,
    list: &[Object],
    prefix: &str,
    inherited_ft: Option<&[u8]>,
    depth: usize,
    out: &mut Vec<SigField>,
) {
    if depth > 16 {
        return;
    }
    for item in list {
        let Ok((field_id, Object::Dictionary(d))) = doc.dereference(item) else {
            continue;
        };
        let Ok(t) = d.get(b"T").and_then(Object::as_str) else {
            continue; // a widget, handled with its parent
        };
        let name = if prefix.is_empty() {
            decode_text(t)
        } else {
            format!("{prefix}.{}", decode_text(t))
        };
        let ft = d.get(b"FT").and_then(Object::as_name).ok().or(inherited_ft);
        let kids: Vec<Object> = d
            .get(b"Kids")
            .and_then(|o| doc.dereference(o))
            .ok()
            .and_then(|(_, o)| o.as_array().ok().cloned())
            .unwrap_or_default();
        if ft == Some(b"Sig")
            && let Ok((_, Object::Dictionary(sig))) = d.get(b"V").and_then(|o| doc.dereference(o))
        {
            let mut widgets = Vec::new();
            if d.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Widget") {
                widgets.push((
                    field_id,
                    d.get(b"P").and_then(Object::as_reference).ok(),
                    rect_of(d),
                ));
            }
            for k in &kids {
                if let Ok((kid, Object::Dictionary(kd))) = doc.dereference(k)
                    && !kd.has(b"T")
                {
                    widgets.push((
                        kid,
                        kd.get(b"P").and_then(Object::as_reference).ok(),
                        rect_of(kd),
                    ));
                }
            }
            out.push(SigField {
                name: name.clone(),
                sig: sig.clone(),
                widgets,
            });
        }
        collect_sig_fields(doc, &kids, &name, ft, depth + 1, out);
    }
}

#[allow(clippy::too_many_arguments)]
fn check_seal(
    provider: &dyn CryptoProvider,
    doc: &Document,
    pdf: &[u8],
    pages: &BTreeMap<ObjectId, u32>,
    eofs: &[(usize, usize)],
    field: &SigField,
    validator: Option<(&ChainValidator, &[RecordedSignature])>,
    at: i64,
) -> Checked {
    let sig = &field.sig;
    let name_of = |k: &[u8]| {
        sig.get(k)
            .and_then(Object::as_name)
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .ok()
    };
    let text_of = |k: &[u8]| sig.get(k).and_then(Object::as_str).ok().map(decode_text);
    let byte_range = byte_range_of(sig);
    let widgets = field
        .widgets
        .iter()
        .map(|(_, p, rect)| SealWidget {
            page: p.and_then(|p| pages.get(&p).copied()).unwrap_or(0),
            rect: *rect,
        })
        .collect();
    let report = SealReport {
        field_name: field.name.clone(),
        sub_filter: name_of(b"SubFilter").unwrap_or_default(),
        reason: text_of(b"Reason"),
        claimed_time: text_of(b"M"),
        signing_time: None,
        signer: None,
        widgets,
        byte_range: byte_range.clone(),
        integrity: false,
        integrity_error: None,
        trusted: None,
        chain_error: None,
        validation_time: None,
        status_now: None,
        covers_whole_file: false,
        later_revisions: 0,
        modified_after_signing: false,
        modifications: Vec::new(),
        revokes: text_of(b"CAMR_Revokes"),
        revoked: None,
        valid: false,
    };
    let mut checked = Checked {
        report,
        changes: Vec::new(),
        signer: None,
        signed_end: 0,
    };
    let report = &mut checked.report;
    let contents = sig
        .get(b"Contents")
        .and_then(Object::as_str)
        .unwrap_or_default();
    let br = match check_byte_range(pdf, &byte_range) {
        Ok(br) => br,
        Err(e) => {
            report.integrity_error = Some(e);
            return checked;
        }
    };
    let signed_end = br[2] + br[3];
    checked.signed_end = signed_end;
    report.covers_whole_file = signed_end == pdf.len();
    report.later_revisions = eofs.iter().filter(|(e, _)| *e > signed_end).count();
    match check_cms(provider, pdf, &br, contents) {
        Ok((cert, intermediates, signing_time, signature)) => {
            report.integrity = true;
            report.signing_time = signing_time;
            report.signer = Some(cert.subject());
            checked.signer = Some(cert.clone());
            if let Some((v, records)) = validator {
                validate_seal_chain(report, v, records, &cert, &intermediates, &signature, at);
            }
        }
        Err((cert, e)) => {
            report.signer = cert.as_ref().map(|c| c.subject());
            checked.signer = cert.map(|c| *c);
            report.integrity_error = Some(e);
        }
    }
    if !report.covers_whole_file {
        let is_revision_end = eofs
            .iter()
            .any(|(e, eol)| (*e..=*eol).contains(&signed_end));
        if !is_revision_end {
            checked.changes.push(Change {
                text: "the signed range does not end at a revision boundary".into(),
                widget: None,
            });
        } else {
            checked.changes = later_changes(doc, pdf, signed_end);
        }
    }
    checked
}

/// Checks the shape of `/ByteRange`: four numbers from 0, the gap exactly `<…>`.
fn check_byte_range(pdf: &[u8], br: &[u64]) -> Result<[usize; 4], String> {
    let v: Vec<usize> = br.iter().filter_map(|&x| usize::try_from(x).ok()).collect();
    let [a0, a1, b0, b1] = v.as_slice() else {
        return Err("/ByteRange does not hold four numbers".into());
    };
    let (a0, a1, b0, b1) = (*a0, *a1, *b0, *b1);
    if a0 != 0 || a1 >= b0 || b0.checked_add(b1).is_none_or(|end| end > pdf.len()) {
        return Err("/ByteRange does not start at 0 or lies outside the file".into());
    }
    if pdf.get(a1) != Some(&b'<') || pdf.get(b0 - 1) != Some(&b'>') {
        return Err("the gap of /ByteRange is not exactly the /Contents hex string".into());
    }
    Ok([a0, a1, b0, b1])
}

/// Signer, other certificates, signingTime, signature value.
type CmsOk = (Certificate, Vec<Certificate>, Option<i64>, Vec<u8>);

/// Validates a seal's chain at its recorded signing time when a record of its signature
/// value exists (the earliest, if several), else at `at`.
fn validate_seal_chain(
    report: &mut SealReport,
    v: &ChainValidator,
    records: &[RecordedSignature],
    cert: &Certificate,
    intermediates: &[Certificate],
    signature: &[u8],
    at: i64,
) {
    let record = records
        .iter()
        .filter(|r| !signature.is_empty() && r.signature == signature && r.at <= at)
        .min_by_key(|r| r.at);
    let (result, time) = match record {
        Some(r) => (
            v.validate_at_signing_time(cert, intermediates, KeyPurpose::Sign, r.at, at),
            ValidationTime {
                at: r.at,
                evidence: TimeEvidence::PlatformRecord,
                reference: Some(r.reference.clone()),
            },
        ),
        None => (
            v.validate(cert, intermediates, KeyPurpose::Sign, at),
            ValidationTime {
                at,
                evidence: TimeEvidence::VerificationTime,
                reference: None,
            },
        ),
    };
    match result {
        Ok(_) => report.trusted = Some(true),
        Err(e) => {
            report.trusted = Some(false);
            report.chain_error = Some(format!("{}: {e}", e.code()));
        }
    }
    if record.is_some()
        && report.trusted == Some(true)
        && let Err(e) = v.validate(cert, intermediates, KeyPurpose::Sign, at)
    {
        report.status_now = Some(format!("{}: {e}", e.code()));
    }
    report.validation_time = Some(time);
}

/// Checks the CMS in `contents` over the byte ranges: messageDigest, signingCertificateV2
/// when present, the signature. Returns the signer, the other certificates and signingTime.
fn check_cms(
    provider: &dyn CryptoProvider,
    pdf: &[u8],
    br: &[usize; 4],
    contents: &[u8],
) -> Result<CmsOk, (Option<Box<Certificate>>, String)> {
    let fail = |e: String| (None, e);
    let mut reader =
        der::SliceReader::new(contents).map_err(|e| fail(format!("empty /Contents ({e})")))?;
    let ci = <ContentInfo as der::Decode>::decode(&mut reader)
        .map_err(|e| fail(format!("/Contents is not a DER ContentInfo ({e})")))?;
    if ci.content_type != oid::SIGNED_DATA && ci.content_type != oid::GM_SIGNED_DATA {
        return Err(fail(format!(
            "content type {} is not signedData",
            ci.content_type
        )));
    }
    let sd: SignedData = ci
        .content
        .decode_as()
        .map_err(|e| fail(format!("bad SignedData ({e})")))?;
    let certs = crate::envelope::certificates_of(&sd);
    let info = sd
        .signer_infos
        .0
        .iter()
        .next()
        .ok_or_else(|| fail("no SignerInfo".into()))?;
    let SignerIdentifier::IssuerAndSerialNumber(ias) = &info.sid else {
        return Err(fail(
            "signer identified by subjectKeyIdentifier (unsupported)".into(),
        ));
    };
    let signer = certs
        .iter()
        .find(|c| crate::envelope::matches(ias, c))
        .cloned()
        .ok_or_else(|| fail("the signer certificate is not in the signature".into()))?;
    let with = |e: String| (Some(Box::new(signer.clone())), e);
    let hash = crate::envelope::digest_of_oid(&info.digest_alg.oid)
        .ok_or_else(|| with(format!("unsupported digest {}", info.digest_alg.oid)))?;
    let key = signer.public_key().map_err(|e| with(e.to_string()))?;
    let scheme =
        scheme_for(&info.signature_algorithm.oid, key.algorithm(), hash).ok_or_else(|| {
            with(format!(
                "unsupported signature algorithm {}",
                info.signature_algorithm.oid
            ))
        })?;
    let digest = range_digest(provider, hash, pdf, br).map_err(|e| with(e.to_string()))?;
    let attrs = info
        .signed_attrs
        .as_ref()
        .ok_or_else(|| with("no signed attributes".into()))?;
    let mut digest_ok = false;
    let mut signing_time = None;
    for a in attrs.iter() {
        let Some(v) = a.values.iter().next() else {
            continue;
        };
        if a.oid == oid::ATTR_MESSAGE_DIGEST {
            digest_ok = v
                .decode_as::<OctetString>()
                .map(|o| o.as_bytes() == digest.as_slice())
                .unwrap_or(false);
        } else if a.oid == oid::ATTR_SIGNING_TIME {
            signing_time = v
                .decode_as::<x509_cert::time::Time>()
                .ok()
                .map(|t| crate::pki::time_secs(&t));
        } else if a.oid == ATTR_SIGNING_CERTIFICATE_V2 && !ess_matches(provider, v, &signer) {
            return Err(with(
                "the signingCertificateV2 attribute does not name the signer certificate".into(),
            ));
        }
    }
    if !digest_ok {
        return Err(with(
            "the signed bytes were changed: the byte-range digest does not match messageDigest"
                .into(),
        ));
    }
    let signed = attrs.to_der().map_err(|e| with(e.to_string()))?;
    provider
        .verify(&key, &scheme, &signed, info.signature.as_bytes())
        .map_err(|_| with("the signature does not verify with the signer certificate".into()))?;
    let others = certs.into_iter().filter(|c| *c != signer).collect();
    Ok((
        signer,
        others,
        signing_time,
        info.signature.as_bytes().to_vec(),
    ))
}

/// signingCertificateV2: the first ESSCertIDv2's hash is the signer certificate's hash.
fn ess_matches(provider: &dyn CryptoProvider, v: &der::Any, signer: &Certificate) -> bool {
    // SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, ... }
    // ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT sha256, certHash OCTET STRING, ... }
    let Ok(outer) = v.decode_as::<Vec<der::Any>>() else {
        return false;
    };
    let Some(Ok(ids)) = outer.first().map(|a| a.decode_as::<Vec<der::Any>>()) else {
        return false;
    };
    let Some(Ok(first)) = ids.first().map(|a| a.decode_as::<Vec<der::Any>>()) else {
        return false;
    };
    let mut hash = HashAlgorithm::Sha256;
    let mut cert_hash = None;
    for item in &first {
        if let Ok(alg) = item.decode_as::<x509_cert::spki::AlgorithmIdentifierOwned>() {
            hash = if alg.oid == oid::SM3 {
                HashAlgorithm::Sm3
            } else if alg.oid == oid::SHA256 {
                HashAlgorithm::Sha256
            } else {
                return false;
            };
        } else if let Ok(o) = item.decode_as::<OctetString>() {
            cert_hash = Some(o.as_bytes().to_vec());
            break;
        }
    }
    cert_hash.is_some_and(|h| h == provider.digest(hash, signer.der()))
}

fn scheme_for(
    sig_oid: &ObjectIdentifier,
    key: PublicKeyAlgorithm,
    hash: HashAlgorithm,
) -> Option<SignatureScheme> {
    // Some PDF signers name the key (id-ecPublicKey) where the signature algorithm belongs.
    let scheme = if *sig_oid == ObjectIdentifier::new_unwrap("1.2.840.10045.2.1")
        && key == PublicKeyAlgorithm::EcdsaP256
    {
        SignatureScheme::EcdsaP256Sha256
    } else {
        crate::envelope::scheme_of_oid(sig_oid)?
    };
    crate::envelope::scheme_fits(&scheme, key, hash).then_some(scheme)
}
