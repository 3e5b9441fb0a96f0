//! "Nuttig" votes through the API: the same votes as the site's button, one per browser
//! (the site's vote cookie, when the request carries it) and per address.

use poem::{Request, web::Data};
use poem_openapi::{OpenApi, param::Path, payload::Json};

use crate::{
    app::AppState,
    domain::votes::Wish,
    store::votes::VoterKeys,
    votes::{self, Target, Voted},
    web::{
        api::{Answers, ApiError, ApiTags, CastVote, objects::VoteResult},
        middleware::client_ip::ClientIp,
        reactions::OwnReactions,
        votes::voter_id,
    },
};

pub struct VotesApi;

impl VotesApi {
    async fn cast(
        state: &AppState,
        req: &Request,
        id: i32,
        wish: Wish,
    ) -> Result<Json<VoteResult>, Answers<CastVote>> {
        let cookies = req.cookie();
        let keys = VoterKeys {
            voter: voter_id(&state.keys, cookies).map(|id| state.keys.voter_hash(&id)),
            ip_hash: ClientIp::of(req, &state.settings.trusted_proxies)
                .address_hash(&state.keys)
                .stored,
        };
        let target = Target {
            comment_id: id,
            article_id: None,
            own: OwnReactions::from_cookies(&state.keys, cookies)
                .key_for(id)
                .is_some(),
        };
        match votes::cast(&state.db, target, &keys, wish).await? {
            Voted::Counted(tally) => Ok(Json(VoteResult {
                helpful_count: tally.helpful_count,
                voted: tally.voted,
            })),
            Voted::NotFound => Err(ApiError::not_found(
                "No approved reaction on a published article has this id.",
            )
            .into()),
            Voted::Own => Err(ApiError::own_reaction().into()),
        }
    }
}

#[OpenApi(tag = "ApiTags::Comments")]
impl VotesApi {
    /// Mark an approved reaction helpful ("Nuttig"). One vote per browser (the site's
    /// vote cookie, when sent) and per client address; voting again changes nothing.
    /// Nobody can see who voted.
    #[oai(path = "/comments/:id/vote", method = "post")]
    async fn vote(
        &self,
        state: Data<&AppState>,
        req: &Request,
        id: Path<i32>,
    ) -> Result<Json<VoteResult>, Answers<CastVote>> {
        Self::cast(&state, req, id.0, Wish::Vote).await
    }

    /// Take a "Nuttig" vote back (of this browser or this client address); without one,
    /// nothing changes.
    #[oai(path = "/comments/:id/vote", method = "delete")]
    async fn withdraw(
        &self,
        state: Data<&AppState>,
        req: &Request,
        id: Path<i32>,
    ) -> Result<Json<VoteResult>, Answers<CastVote>> {
        Self::cast(&state, req, id.0, Wish::Withdraw).await
    }
}
