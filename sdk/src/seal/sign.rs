//! Preparing a PDF for one seal (an incremental update with an empty signature) and
//! embedding the signature into it.

use lopdf::{
    Dictionary, Document, IncrementalDocument, Object, ObjectId, Stream, StringFormat, dictionary,
};

use super::pdf::{find, load, pdf_date, pdf_err, text_string};
use super::{DEFAULT_RESERVED, Placement};
use super::{PreparedPdf, SealError, SealOptions, hash_for, sub_filter_for};
use crate::crypto::{
    CryptoProvider, HashAlgorithm, PrivateKey, PublicKeyAlgorithm, SignatureScheme,
};
use crate::pki::Certificate;

/// Where one widget goes: page number, `[x, y, w, h]` in user space, and the slice
/// (index, count) of a straddle seal.
type WidgetPlace = (u32, [f32; 4], Option<(usize, usize)>);

/// Pixel size of the default seal image drawn by [`seal_with_key`].
const DEFAULT_SEAL_PX: u32 = 256;

/// Placeholder numbers of `/ByteRange`, replaced by the real offsets of the same width.
const BYTE_RANGE_PLACEHOLDER: i64 = 9_999_999_999;

/// The appearance when [`prepare`] is given no image: a red ring with a five-pointed star,
/// drawn with vector operators in a form XObject of `w` × `h` points.
fn default_appearance(w: f32, h: f32) -> Stream {
    let cx = w / 2.0;
    let cy = h / 2.0;
    let lw = (w.min(h) * 0.06).max(0.5);
    let r = w.min(h) / 2.0 - lw;
    let k = 0.552_284_8 * r;
    let mut c = String::new();
    c.push_str(&format!(
        "q {lw:.2} w 0.86 0.08 0.08 RG 0.86 0.08 0.08 rg\n"
    ));
    c.push_str(&format!("{:.2} {cy:.2} m\n", cx + r));
    c.push_str(&format!(
        "{:.2} {:.2} {:.2} {:.2} {cx:.2} {:.2} c\n",
        cx + r,
        cy + k,
        cx + k,
        cy + r,
        cy + r
    ));
    c.push_str(&format!(
        "{:.2} {:.2} {:.2} {:.2} {:.2} {cy:.2} c\n",
        cx - k,
        cy + r,
        cx - r,
        cy + k,
        cx - r
    ));
    c.push_str(&format!(
        "{:.2} {:.2} {:.2} {:.2} {cx:.2} {:.2} c\n",
        cx - r,
        cy - k,
        cx - k,
        cy - r,
        cy - r
    ));
    c.push_str(&format!(
        "{:.2} {:.2} {:.2} {:.2} {:.2} {cy:.2} c S\n",
        cx + k,
        cy - r,
        cx + r,
        cy - k,
        cx + r
    ));
    let outer = r * 0.45;
    let inner = outer * 0.38;
    for i in 0..10 {
        let radius = if i % 2 == 0 { outer } else { inner };
        let angle = std::f32::consts::FRAC_PI_2 + i as f32 * std::f32::consts::PI / 5.0;
        let op = if i == 0 { "m" } else { "l" };
        c.push_str(&format!(
            "{:.2} {:.2} {op}\n",
            cx + radius * angle.cos(),
            cy + radius * angle.sin()
        ));
    }
    c.push_str("h f Q\n");
    let dict = dictionary! {
        "Type" => "XObject",
        "Subtype" => "Form",
        "BBox" => vec![0.into(), 0.into(), w.into(), h.into()],
        "Resources" => Dictionary::new(),
    };
    Stream::new(dict, c.into_bytes())
}

/// Names of the top-level fields of the AcroForm.
fn field_names(doc: &Document) -> Vec<Vec<u8>> {
    let mut names = Vec::new();
    let Ok(catalog) = doc.catalog() else {
        return names;
    };
    let Ok((_, acro)) = catalog.get(b"AcroForm").and_then(|o| doc.dereference(o)) else {
        return names;
    };
    let Ok(acro) = acro.as_dict() else {
        return names;
    };
    let Ok((_, fields)) = acro.get(b"Fields").and_then(|o| doc.dereference(o)) else {
        return names;
    };
    for f in fields.as_array().map(|a| a.as_slice()).unwrap_or_default() {
        if let Ok((_, Object::Dictionary(d))) = doc.dereference(f)
            && let Ok(t) = d.get(b"T").and_then(Object::as_str)
        {
            names.push(t.to_vec());
        }
    }
    names
}

/// DocMDP P value of a certifying signature, if any.
fn doc_mdp_level(doc: &Document) -> Option<i64> {
    let catalog = doc.catalog().ok()?;
    let (_, perms) = doc.dereference(catalog.get(b"Perms").ok()?).ok()?;
    let (_, sig) = doc
        .dereference(perms.as_dict().ok()?.get(b"DocMDP").ok()?)
        .ok()?;
    let (_, refs) = doc
        .dereference(sig.as_dict().ok()?.get(b"Reference").ok()?)
        .ok()?;
    for r in refs.as_array().ok()? {
        let (_, r) = doc.dereference(r).ok()?;
        let r = r.as_dict().ok()?;
        if r.get(b"TransformMethod").and_then(Object::as_name).ok() == Some(b"DocMDP") {
            let (_, params) = doc.dereference(r.get(b"TransformParams").ok()?).ok()?;
            return Some(
                params
                    .as_dict()
                    .ok()?
                    .get(b"P")
                    .and_then(Object::as_i64)
                    .unwrap_or(2),
            );
        }
    }
    None
}

/// Appends `item` to the array at `key` of the dictionary object `owner` in the update,
/// following a reference to an indirect array (cloned into the update too).
fn push_to_array(
    inc: &mut IncrementalDocument,
    owner: ObjectId,
    key: &[u8],
    item: Object,
) -> Result<(), SealError> {
    inc.opt_clone_object_to_new_document(owner)
        .map_err(pdf_err)?;
    let current = inc
        .new_document
        .get_object(owner)
        .and_then(Object::as_dict)
        .map_err(pdf_err)?
        .get(key)
        .ok()
        .cloned();
    match current {
        Some(Object::Reference(id)) => {
            inc.opt_clone_object_to_new_document(id).map_err(pdf_err)?;
            let arr = inc
                .new_document
                .get_object_mut(id)
                .and_then(Object::as_array_mut)
                .map_err(pdf_err)?;
            arr.push(item);
        }
        Some(Object::Array(mut arr)) => {
            arr.push(item);
            inc.new_document
                .get_object_mut(owner)
                .and_then(Object::as_dict_mut)
                .map_err(pdf_err)?
                .set(key.to_vec(), Object::Array(arr));
        }
        _ => {
            inc.new_document
                .get_object_mut(owner)
                .and_then(Object::as_dict_mut)
                .map_err(pdf_err)?
                .set(key.to_vec(), Object::Array(vec![item]));
        }
    }
    Ok(())
}

fn check_rect(rect: [f32; 4], media: Option<[f32; 4]>, page: u32) -> Result<(), SealError> {
    let [x, y, w, h] = rect;
    if !(rect.iter().all(|v| v.is_finite()) && w > 0.0 && h > 0.0) {
        return Err(SealError::invalid(
            "the seal rectangle needs a positive width and height",
        ));
    }
    if let Some([mx0, my0, mx1, my1]) = media
        && (x + w < mx0 || y + h < my0 || x > mx1 || y > my1)
    {
        return Err(SealError::invalid(format!(
            "the seal at ({x}, {y}) size {w}×{h} lies outside page {page} ({mx0} {my0} {mx1} {my1})"
        )));
    }
    Ok(())
}

/// Prepares `pdf` for one seal by a signer with a `key` key: appends an incremental update
/// with the signature dictionary (`/ByteRange` and a zero-filled `/Contents`), the field and
/// its widget(s) with the seal appearance, the updated pages and AcroForm (`/SigFlags 3`).
/// Earlier bytes are kept verbatim. Returns the file and the byte-range digest (SM3 for SM2,
/// SHA-256 otherwise).
pub fn prepare(
    provider: &dyn CryptoProvider,
    pdf: &[u8],
    key: PublicKeyAlgorithm,
    options: &SealOptions,
) -> Result<PreparedPdf, SealError> {
    prepare_inner(provider, pdf, key, options, None)
}

/// Prepares the revocation (撤章) of the seal in field `field` by a signer with a `key` key:
/// one incremental update that hides every widget of that seal (`/F` Hidden, not Print —
/// its appearance and signature stay in the file, so the history remains verifiable) and
/// adds an invisible signature whose dictionary names the revoked field
/// (`/CAMR_Revokes`, `/Reason` "撤章 …"). Sign it like any seal ([`super::sign_prepared`]);
/// [`super::verify`] then reports the seal as revoked when the revocation is valid and its
/// signer may revoke ([`super::may_revoke`]). `options.placement` is ignored.
pub fn prepare_revoke(
    provider: &dyn CryptoProvider,
    pdf: &[u8],
    key: PublicKeyAlgorithm,
    field: &str,
    options: &SealOptions,
) -> Result<PreparedPdf, SealError> {
    let mut options = options.clone();
    options.placement = Placement::Invisible;
    options.image = None;
    if options.reason.is_none() {
        options.reason = Some(format!("撤章 {field}"));
    }
    prepare_inner(provider, pdf, key, &options, Some(field))
}

/// The widget objects of the signed signature field named `name` (fully qualified, as
/// [`super::verify`] reports it), found with verify's own walk over the AcroForm.
fn signed_field_widgets(doc: &Document, name: &str) -> Result<Vec<ObjectId>, SealError> {
    super::verify::sig_fields(doc)
        .into_iter()
        .find(|f| f.name == name)
        .map(|f| f.widgets.iter().filter_map(|w| w.0).collect::<Vec<_>>())
        .filter(|w| !w.is_empty())
        .ok_or_else(|| {
            SealError::invalid(format!("the document has no signed seal named `{name}`"))
        })
}

fn prepare_inner(
    provider: &dyn CryptoProvider,
    pdf: &[u8],
    key: PublicKeyAlgorithm,
    options: &SealOptions,
    revokes: Option<&str>,
) -> Result<PreparedPdf, SealError> {
    let doc = load(pdf)?;
    if doc_mdp_level(&doc) == Some(1) {
        return Err(SealError::Locked);
    }
    let revoked_widgets = match revokes {
        Some(field) => signed_field_widgets(&doc, field)?,
        None => Vec::new(),
    };
    let geometry = super::locate::pages(&doc)?;
    let (widgets, straddle_width): (Vec<WidgetPlace>, f32) = match &options.placement {
        Placement::Page { page, rect } => {
            let g = geometry.iter().find(|g| g.number == *page).ok_or_else(|| {
                SealError::invalid(format!(
                    "page {page} does not exist (the document has {} pages)",
                    geometry.len()
                ))
            })?;
            check_rect(*rect, Some(g.media_box), *page)?;
            (vec![(*page, *rect, None)], 0.0)
        }
        Placement::EveryPage { rect } => {
            check_rect(*rect, None, 1)?;
            let rects = super::locate::every_page_rects(&geometry, *rect)?;
            (rects.into_iter().map(|(n, r)| (n, r, None)).collect(), 0.0)
        }
        Placement::Pages { pages, rect } => {
            check_rect(*rect, None, 1)?;
            let mut seen = std::collections::BTreeSet::new();
            let mut chosen = Vec::with_capacity(pages.len());
            for n in pages {
                let g = geometry.iter().find(|g| g.number == *n).ok_or_else(|| {
                    SealError::invalid(format!(
                        "page {n} does not exist (the document has {} pages)",
                        geometry.len()
                    ))
                })?;
                if !seen.insert(*n) {
                    return Err(SealError::invalid(format!("page {n} is named twice")));
                }
                let [x, y, w, h] = *rect;
                if x + w <= 0.0 || y + h <= 0.0 || x >= g.display_width() || y >= g.display_height()
                {
                    return Err(SealError::invalid(format!(
                        "the seal at ({x}, {y}) size {w}×{h} lies outside page {n} ({} × {} points)",
                        g.display_width(),
                        g.display_height()
                    )));
                }
                chosen.push(g.clone());
            }
            let rects = super::locate::every_page_rects(&chosen, *rect)?;
            (rects.into_iter().map(|(n, r)| (n, r, None)).collect(), 0.0)
        }
        Placement::Straddle {
            from,
            to,
            width,
            height,
            y,
        } => {
            let rects = super::locate::straddle_rects(&geometry, *from, *to, *width, *height, *y)?;
            let count = rects.len();
            (
                rects
                    .into_iter()
                    .enumerate()
                    .map(|(i, (n, r))| (n, r, Some((i, count))))
                    .collect(),
                *width,
            )
        }
        Placement::Keyword {
            keyword,
            width,
            height,
        } => {
            let rects = super::locate::keyword_rects(&doc, keyword, *width, *height)?;
            (rects.into_iter().map(|(n, r)| (n, r, None)).collect(), 0.0)
        }
        Placement::Invisible => {
            let first = geometry.first().map(|g| g.number).unwrap_or(1);
            (vec![(first, [0.0; 4], None)], 0.0)
        }
    };
    let invisible = options.placement == Placement::Invisible;
    if widgets.is_empty() {
        return Err(SealError::invalid(
            "the placement gives no place for the seal",
        ));
    }
    let existing = field_names(&doc);
    let field_name = match &options.field_name {
        Some(n) if n.is_empty() => return Err(SealError::invalid("the field name is empty")),
        Some(n) if existing.iter().any(|e| e == n.as_bytes()) => {
            return Err(SealError::invalid(format!(
                "a field named `{n}` exists already"
            )));
        }
        Some(n) => n.clone(),
        // `SealN`, or `RevokeN-<field>` for a revocation, with the first free N.
        None => {
            let name = |i: u32| match revokes {
                Some(field) => format!("Revoke{i}-{}", field.replace('.', "_")),
                None => format!("Seal{i}"),
            };
            (1..)
                .map(name)
                .find(|n| !existing.iter().any(|e| e == n.as_bytes()))
                .unwrap_or_else(|| if revokes.is_some() { "Revoke" } else { "Seal" }.into())
        }
    };
    let reserved = if options.reserved == 0 {
        DEFAULT_RESERVED
    } else {
        options.reserved
    };
    let root_id = doc
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|_| SealError::malformed("the trailer has no /Root"))?;
    let catalog_acro = doc
        .catalog()
        .map_err(pdf_err)?
        .get(b"AcroForm")
        .ok()
        .cloned();
    let old_len = pdf.len();
    let mut inc = IncrementalDocument::create_from(pdf.to_vec(), doc);

    // 1. The appearances (one form per widget, upright on turned pages) and the signature
    //    dictionary.
    let image = match (&options.image, straddle_width > 0.0) {
        (Some(image), _) => Some(image.add_to(&mut inc.new_document)?),
        (None, true) => Some(
            super::appearance::default_seal("", DEFAULT_SEAL_PX).add_to(&mut inc.new_document)?,
        ),
        (None, false) => None,
    };
    let mut placed = Vec::with_capacity(widgets.len());
    for (number, rect, slice) in &widgets {
        let page = geometry
            .iter()
            .find(|g| g.number == *number)
            .ok_or_else(|| SealError::invalid(format!("page {number} does not exist")))?;
        let turned = page.rotate % 180 == 90;
        let (vw, vh) = if turned {
            (rect[3], rect[2])
        } else {
            (rect[2], rect[3])
        };
        if invisible {
            placed.push((page.id, *rect, None));
            continue;
        }
        let mut form = match (image, slice) {
            (Some(img), Some((i, n))) => {
                super::appearance::straddle_form(img, straddle_width, vh, *i, *n)?
            }
            (Some(img), None) => super::appearance::appearance_form(img, vw, vh)?,
            (None, _) => default_appearance(vw, vh),
        };
        super::appearance::upright(&mut form, page.rotate);
        let ap = inc.new_document.add_object(form);
        placed.push((page.id, *rect, Some(ap)));
    }
    let when = options.signing_time.unwrap_or_else(crate::qr::unix_now);
    let mut sig = dictionary! {
        "Type" => "Sig",
        "Filter" => "Adobe.PPKLite",
        "SubFilter" => sub_filter_for(key),
        "ByteRange" => vec![0.into(), BYTE_RANGE_PLACEHOLDER.into(), BYTE_RANGE_PLACEHOLDER.into(), BYTE_RANGE_PLACEHOLDER.into()],
        "Contents" => Object::String(vec![0u8; reserved], StringFormat::Hexadecimal),
        "M" => Object::string_literal(pdf_date(when)),
    };
    if let Some(reason) = &options.reason {
        sig.set("Reason", text_string(reason));
    }
    if let Some(field) = revokes {
        sig.set("CAMR_Revokes", text_string(field));
        // Hide the revoked seal's widgets: Hidden (bit 2) set, Print (bit 3) cleared.
        for id in &revoked_widgets {
            inc.opt_clone_object_to_new_document(*id).map_err(pdf_err)?;
            let w = inc
                .new_document
                .get_object_mut(*id)
                .and_then(Object::as_dict_mut)
                .map_err(pdf_err)?;
            let flags = w.get(b"F").and_then(Object::as_i64).unwrap_or(0);
            w.set("F", (flags | 2) & !4);
        }
    }
    let sig_id = inc.new_document.add_object(sig);

    // 2. The field and its widget(s).
    let widget = |page: ObjectId, [x, y, w, h]: [f32; 4], ap: Option<ObjectId>| {
        let mut d = dictionary! {
            "Type" => "Annot",
            "Subtype" => "Widget",
            "Rect" => vec![x.into(), y.into(), (x + w).into(), (y + h).into()],
            "P" => page,
            "F" => 4,
        };
        if let Some(ap) = ap {
            d.set("AP", dictionary! { "N" => ap });
        }
        d
    };
    let field_id = if let [(page, rect, ap)] = placed.as_slice() {
        let mut d = widget(*page, *rect, *ap);
        d.set("FT", "Sig");
        d.set("T", text_string(&field_name));
        d.set("V", sig_id);
        let id = inc.new_document.add_object(d);
        push_to_array(&mut inc, *page, b"Annots", Object::Reference(id))?;
        id
    } else {
        let field_id = inc.new_document.new_object_id();
        let mut kids = Vec::with_capacity(placed.len());
        for (page, rect, ap) in &placed {
            let mut d = widget(*page, *rect, *ap);
            d.set("Parent", field_id);
            // /V is inheritable; repeated on each kid because poppler reads each kid that
            // has a /Parent as a field of its own and finds no signature otherwise.
            d.set("V", sig_id);
            let kid = inc.new_document.add_object(d);
            push_to_array(&mut inc, *page, b"Annots", Object::Reference(kid))?;
            kids.push(Object::Reference(kid));
        }
        inc.new_document.set_object(
            field_id,
            dictionary! {
                "FT" => "Sig",
                "T" => text_string(&field_name),
                "V" => sig_id,
                "Kids" => kids,
            },
        );
        field_id
    };

    // 3. The AcroForm: the field in /Fields, /SigFlags 3.
    let acro_id = match catalog_acro {
        Some(Object::Reference(id)) => id,
        Some(Object::Dictionary(d)) => {
            // Move a direct AcroForm into its own object.
            let id = inc.new_document.add_object(d);
            inc.opt_clone_object_to_new_document(root_id)
                .map_err(pdf_err)?;
            inc.new_document
                .get_object_mut(root_id)
                .and_then(Object::as_dict_mut)
                .map_err(pdf_err)?
                .set("AcroForm", id);
            id
        }
        _ => {
            let id = inc.new_document.add_object(dictionary! {
                "Fields" => Vec::<Object>::new(),
            });
            inc.opt_clone_object_to_new_document(root_id)
                .map_err(pdf_err)?;
            inc.new_document
                .get_object_mut(root_id)
                .and_then(Object::as_dict_mut)
                .map_err(pdf_err)?
                .set("AcroForm", id);
            id
        }
    };
    push_to_array(&mut inc, acro_id, b"Fields", Object::Reference(field_id))?;
    inc.new_document
        .get_object_mut(acro_id)
        .and_then(Object::as_dict_mut)
        .map_err(pdf_err)?
        .set("SigFlags", 3);

    // 4. Serialise, then find the placeholders in the new revision.
    let mut bytes = Vec::with_capacity(old_len + 2 * reserved + 8192);
    inc.save_to(&mut bytes).map_err(SealError::malformed)?;
    if bytes.get(..old_len) != Some(pdf) {
        return Err(SealError::malformed(
            "internal: the update did not keep the earlier bytes",
        ));
    }
    let (br_start, br_end, a, b) = locate_placeholders(&bytes, old_len, sig_id, reserved)?;
    let len = bytes.len();
    let byte_range = [0, a, b, len - b];
    let mut text = format!("[0 {a} {b} {}", len - b).into_bytes();
    let width = br_end - br_start;
    if text.len() + 1 > width {
        return Err(SealError::malformed("internal: /ByteRange does not fit"));
    }
    text.resize(width - 1, b' ');
    text.push(b']');
    bytes[br_start..br_end].copy_from_slice(&text);
    let hash = hash_for(key);
    let digest = range_digest(provider, hash, &bytes, &byte_range)?;
    Ok(PreparedPdf {
        bytes,
        byte_range,
        digest_input_ranges: [(0, a), (b, len)],
        digest,
        hash,
        key_algorithm: key,
        field_name,
    })
}

/// Finds, in the signature object of the new revision, the `[…]` of `/ByteRange` and the
/// `<…>` of `/Contents`: returns (bracket start, bracket end, `<` offset, offset past `>`).
fn locate_placeholders(
    bytes: &[u8],
    from: usize,
    sig_id: ObjectId,
    reserved: usize,
) -> Result<(usize, usize, usize, usize), SealError> {
    let missing = || SealError::malformed("internal: signature placeholders not found");
    let header = format!("{} {} obj", sig_id.0, sig_id.1);
    let mut at = from;
    let start = loop {
        let p = find(bytes, header.as_bytes(), at).ok_or_else(missing)?;
        if p == 0 || bytes[p - 1].is_ascii_whitespace() {
            break p;
        }
        at = p + 1;
    };
    let end = find(bytes, b"endobj", start).ok_or_else(missing)?;
    let br = find(&bytes[..end], b"/ByteRange", start).ok_or_else(missing)?;
    let br_start = find(&bytes[..end], b"[", br).ok_or_else(missing)?;
    let br_end = find(&bytes[..end], b"]", br_start).ok_or_else(missing)? + 1;
    let mut c = find(&bytes[..end], b"/Contents", start).ok_or_else(missing)? + 9;
    while bytes.get(c).is_some_and(u8::is_ascii_whitespace) {
        c += 1;
    }
    if bytes.get(c) != Some(&b'<') {
        return Err(missing());
    }
    let b = c + 1 + 2 * reserved + 1;
    if bytes.get(b - 1) != Some(&b'>') || !bytes[c + 1..b - 1].iter().all(|&x| x == b'0') {
        return Err(missing());
    }
    Ok((br_start, br_end, c, b))
}

/// The digest over the two byte ranges.
pub(crate) fn range_digest(
    provider: &dyn CryptoProvider,
    hash: HashAlgorithm,
    bytes: &[u8],
    br: &[usize; 4],
) -> Result<Vec<u8>, SealError> {
    let first = bytes
        .get(br[0]..br[0] + br[1])
        .ok_or_else(|| SealError::malformed("/ByteRange lies outside the file"))?;
    let second = bytes
        .get(br[2]..br[2] + br[3])
        .ok_or_else(|| SealError::malformed("/ByteRange lies outside the file"))?;
    let mut h = provider.hasher(hash);
    h.update(first);
    h.update(second);
    Ok(h.finalize())
}

/// Writes the CMS (DER) into the `/Contents` placeholder as upper-case hex, padded with
/// `0`. Fails with [`SealError::SignatureTooLarge`] when it does not fit.
pub fn embed(prepared: PreparedPdf, cms_der: &[u8]) -> Result<Vec<u8>, SealError> {
    let reserved = prepared.reserved();
    if cms_der.len() > reserved {
        return Err(SealError::SignatureTooLarge {
            size: cms_der.len(),
            reserved,
        });
    }
    let mut bytes = prepared.bytes;
    let start = prepared.byte_range[1] + 1;
    let hex = data_encoding::HEXUPPER.encode(cms_der);
    let slot = bytes
        .get_mut(start..start + hex.len())
        .ok_or_else(|| SealError::malformed("/Contents lies outside the file"))?;
    slot.copy_from_slice(hex.as_bytes());
    Ok(bytes)
}

/// Seals `pdf` with a local key in one call: [`prepare`], sign the attributes with `key`,
/// [`embed`].
pub fn seal_with_key(
    provider: &dyn CryptoProvider,
    pdf: &[u8],
    signer: &Certificate,
    key: &PrivateKey,
    chain: &[Certificate],
    options: &SealOptions,
) -> Result<Vec<u8>, SealError> {
    check_key(signer, key)?;
    let algorithm = key.algorithm();
    let prepared = if options.image.is_some() {
        prepare(provider, pdf, algorithm, options)?
    } else {
        let subject = signer.subject();
        let name = subject.organization.unwrap_or(subject.name);
        let mut options = options.clone();
        options.image = Some(super::appearance::default_seal(&name, DEFAULT_SEAL_PX));
        prepare(provider, pdf, algorithm, &options)?
    };
    sign_with_key(provider, prepared, signer, key, chain)
}

fn check_key(signer: &Certificate, key: &PrivateKey) -> Result<(), SealError> {
    if signer.public_key()? != key.public_key() {
        return Err(SealError::invalid(
            "the private key does not belong to the signer certificate",
        ));
    }
    Ok(())
}

fn sign_with_key(
    provider: &dyn CryptoProvider,
    prepared: PreparedPdf,
    signer: &Certificate,
    key: &PrivateKey,
    chain: &[Certificate],
) -> Result<Vec<u8>, SealError> {
    let scheme = SignatureScheme::default_for(key.algorithm());
    let cms = super::sign_prepared(provider, &prepared, signer, chain, |attrs| {
        Ok(provider.sign(key, &scheme, attrs)?)
    })?;
    embed(prepared, &cms)
}

/// Revokes (撤章) the seal in field `field` with a local key in one call: refuses with
/// [`SealError::RevokeDenied`] unless `signer` may revoke it ([`super::may_revoke`]: the
/// seal's own signer, or one of `authorities`), then [`prepare_revoke`], sign, [`embed`].
#[allow(clippy::too_many_arguments)]
pub fn revoke_with_key(
    provider: &dyn CryptoProvider,
    pdf: &[u8],
    signer: &Certificate,
    key: &PrivateKey,
    chain: &[Certificate],
    authorities: &[Certificate],
    field: &str,
    options: &SealOptions,
) -> Result<Vec<u8>, SealError> {
    check_key(signer, key)?;
    let target = super::signer_of(provider, pdf, field)?;
    if !super::may_revoke(&target, signer, authorities) {
        return Err(SealError::RevokeDenied {
            field: field.to_string(),
            signer: target.subject().name,
            revoker: signer.subject().name,
        });
    }
    let prepared = prepare_revoke(provider, pdf, key.algorithm(), field, options)?;
    sign_with_key(provider, prepared, signer, key, chain)
}

#[cfg(test)]
pub(crate) mod tests_support {
    /// The widgets of the signed field `name` (for tests).
    pub(crate) fn widgets_of(doc: &lopdf::Document, name: &str) -> Vec<lopdf::ObjectId> {
        super::signed_field_widgets(doc, name).unwrap_or_default()
    }
}
