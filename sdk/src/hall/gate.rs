//! The hall as the platform's decrypt gate ([`DecryptPolicy`]): the Epoint manual's
//! precondition for the decrypt QR, "投标人已完成签到，开标时间已到", per bid and its tender.

use super::{Bid, Hall, lower};
use crate::ceremony::{DecryptContext, DecryptPolicy, DecryptRefusal};
use crate::protocol::{EncryptedKeyItem, UsageRecord};
use crate::store::{BoxFuture, StoreError};

/// The gate cannot read its records: refused (fails closed).
fn unavailable(e: impl std::fmt::Display) -> DecryptRefusal {
    tracing::error!("the decrypt gate cannot read the hall: {e}");
    DecryptRefusal::BidderNotSignedIn {
        who: "the bidder (the hall's records cannot be read now; try again)".into(),
    }
}

impl Hall {
    /// The bids whose content keys a decrypt is about to open (by the SM3 of each encrypted
    /// key, not by the recipient labels a caller supplies); sign-ins settled first.
    async fn bids_of(&self, items: &[EncryptedKeyItem]) -> Result<Vec<Bid>, StoreError> {
        self.settle_sign_ins().await?;
        let mut bids: Vec<Bid> = Vec::new();
        for item in items {
            let digest = super::key_digest(self.provider.as_ref(), &item.encrypted_key);
            if let Some(bid) = self.records.bid_by_key(&digest).await?
                && !bids.iter().any(|b| b.id == bid.id)
            {
                bids.push(bid);
            }
        }
        Ok(bids)
    }

    /// The latest opening time among the tenders of `bids` (a decrypt opening keys of several
    /// bids waits for all of them).
    async fn opening_of(&self, bids: &[Bid]) -> Result<i64, DecryptRefusal> {
        let mut opens_at = i64::MIN;
        for bid in bids {
            let tender = self.tender(&bid.tender).await.map_err(unavailable)?;
            opens_at = opens_at.max(tender.opens_at);
        }
        Ok(opens_at)
    }
}

fn not_signed_in(ctx: &DecryptContext<'_>, bids: &[Bid]) -> DecryptRefusal {
    let who = match ctx.bidder {
        Some(who) => format!("certificate {who}"),
        None => format!(
            "the bidder of {}",
            bids.iter()
                .map(|b| format!("`{}`", b.name))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    DecryptRefusal::BidderNotSignedIn { who }
}

impl DecryptPolicy for Hall {
    fn check<'a>(&'a self, ctx: DecryptContext<'a>) -> BoxFuture<'a, Result<(), DecryptRefusal>> {
        Box::pin(async move {
            let bids = self.bids_of(ctx.items).await.map_err(unavailable)?;
            if bids.is_empty() {
                return if self.free_decrypts {
                    Ok(())
                } else {
                    Err(DecryptRefusal::NotABid)
                };
            }
            let opens_at = self.opening_of(&bids).await?;
            if ctx.now < opens_at {
                return Err(DecryptRefusal::BidOpeningNotReached {
                    opens_at,
                    now: ctx.now,
                });
            }
            let signed_in = bids.iter().any(|b| {
                b.sign_ins
                    .iter()
                    .any(|s| ctx.bidder.is_none_or(|who| lower(who) == s.cert_sn))
            });
            if signed_in {
                Ok(())
            } else {
                Err(not_signed_in(&ctx, &bids))
            }
        })
    }

    /// The phone that answers a bid's decrypt must hold a certificate that signed in for it
    /// (the sign-in and the decrypt answer are both signed with the bidder's signing
    /// certificate): someone else's sign-in does not open the bid.
    fn check_answer<'a>(
        &'a self,
        ctx: DecryptContext<'a>,
        answered_by: &'a UsageRecord,
    ) -> BoxFuture<'a, Result<(), DecryptRefusal>> {
        Box::pin(async move {
            let bids = self.bids_of(ctx.items).await.map_err(unavailable)?;
            if bids.is_empty() {
                return Ok(());
            }
            let answerer = lower(&answered_by.cert_sn);
            if bids
                .iter()
                .any(|b| b.sign_ins.iter().any(|s| s.cert_sn == answerer))
            {
                return Ok(());
            }
            Err(DecryptRefusal::AnsweredByAnother {
                cert_sn: answered_by.cert_sn.clone(),
                name: answered_by.cert_name.clone(),
            })
        })
    }
}
