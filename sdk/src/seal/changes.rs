//! What later revisions of a signed PDF changed beyond annotations, form fields and signatures.

use std::collections::BTreeSet;

use lopdf::{Dictionary, Document, Object, ObjectId};

/// What later revisions changed beyond annotations, form fields and signatures: compares
/// the objects of the signed revision with those of the whole file.
pub(super) fn later_changes(now: &Document, pdf: &[u8], signed_end: usize) -> Vec<Change> {
    let change = |text: String| Change { text, widget: None };
    let Some(old_bytes) = pdf.get(..signed_end) else {
        return vec![change("the signed revision cannot be read".into())];
    };
    let old = match Document::load_mem(old_bytes) {
        Ok(d) => d,
        Err(e) => return vec![change(format!("the signed revision cannot be read ({e})"))],
    };
    let page_ids: BTreeSet<ObjectId> = old.get_pages().into_values().collect();
    let mut allowed_arrays = BTreeSet::new(); // indirect /Annots and /Fields
    let mut acro_ids = BTreeSet::new();
    for d in [&old, now] {
        for id in d.get_pages().into_values() {
            if let Ok(Object::Reference(a)) = d.get_dictionary(id).and_then(|p| p.get(b"Annots")) {
                allowed_arrays.insert(*a);
            }
        }
        if let Ok(catalog) = d.catalog()
            && let Ok(acro) = catalog.get(b"AcroForm")
        {
            if let Ok(id) = acro.as_reference() {
                acro_ids.insert(id);
            }
            if let Ok((_, Object::Dictionary(a))) = d.dereference(acro)
                && let Ok(Object::Reference(f)) = a.get(b"Fields")
            {
                allowed_arrays.insert(*f);
            }
        }
    }
    let mut out: Vec<Change> = Vec::new();
    for (id, new_obj) in &now.objects {
        let Some(old_obj) = old.objects.get(id) else {
            continue; // a new object: only reachable through a changed one
        };
        if old_obj == new_obj || acro_ids.contains(id) || allowed_arrays.contains(id) {
            continue;
        }
        let what = format!("object {} {}", id.0, id.1);
        match (old_obj, new_obj) {
            (Object::Dictionary(o), Object::Dictionary(n)) if page_ids.contains(id) => {
                if without(o, &[b"Annots"]) != without(n, &[b"Annots"]) {
                    let page = old
                        .get_pages()
                        .into_iter()
                        .find(|(_, p)| p == id)
                        .map(|(n, _)| n)
                        .unwrap_or(0);
                    out.push(change(format!("page {page} was changed ({what})")));
                }
            }
            (Object::Dictionary(o), Object::Dictionary(n)) if o.has_type(b"Catalog") => {
                let keep: &[&[u8]] = &[b"AcroForm", b"DSS", b"Perms"];
                if without(o, keep) != without(n, keep) {
                    out.push(change(format!("the document catalog was changed ({what})")));
                }
            }
            (Object::Dictionary(o), Object::Dictionary(_))
                if o.get(b"Subtype").and_then(Object::as_name).ok().is_some() && o.has(b"Rect") =>
            {
                if is_signed_widget(&old, o) {
                    out.push(Change {
                        text: format!("a widget of a signed signature field was changed ({what})"),
                        widget: Some(*id),
                    });
                }
            }
            (Object::Stream(_), _) | (_, Object::Stream(_)) => {
                out.push(change(format!(
                    "a content or resource stream was changed ({what})"
                )));
            }
            _ => out.push(change(format!("{what} was changed"))),
        }
    }
    if old.get_pages().len() != now.get_pages().len() {
        out.push(change(format!(
            "the page count changed from {} to {}",
            old.get_pages().len(),
            now.get_pages().len()
        )));
    }
    out
}

/// A widget of a signed signature field: the field itself (`/FT /Sig` with `/V`), or a kid
/// whose `/Parent` is one.
fn is_signed_widget(doc: &Document, d: &Dictionary) -> bool {
    let signed =
        |d: &Dictionary| d.get(b"FT").and_then(Object::as_name).ok() == Some(b"Sig") && d.has(b"V");
    signed(d)
        || matches!(
            d.get(b"Parent").and_then(|p| doc.dereference(p)),
            Ok((_, Object::Dictionary(p))) if signed(p)
        )
}

fn without(d: &Dictionary, keys: &[&[u8]]) -> Dictionary {
    let mut d = d.clone();
    for k in keys {
        d.remove(k);
    }
    d
}

/// One change a later revision made beyond what is allowed, and the widget it touched
/// when it is a widget of a signed signature field (a revocation hides those).
pub(super) struct Change {
    pub(super) text: String,
    pub(super) widget: Option<ObjectId>,
}
