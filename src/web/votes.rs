//! The "Nuttig" button: a reader marks a reaction helpful, or takes that back. Who
//! voted is a signed random id in a cookie of its own and the address hash; the page
//! and the API tell nobody who voted, only how many did.

use poem::{
    Request, Response, handler,
    http::header,
    web::{
        Data, Path,
        cookie::{Cookie, CookieJar, SameSite},
    },
};
use serde::Deserialize;

use crate::{
    app::AppState,
    domain::{validate::FieldMessage, votes::Wish},
    error::{AppError, AppResult},
    security::{self, Keys},
    store::votes::VoterKeys,
    votes::{self, Tally, Target, Voted},
    web::{HtmlForm, middleware::client_ip::ClientIp, reactions::OwnReactions, see_other, threads},
};

/// The cookie that holds this browser's signed vote id.
pub const VOTER_COOKIE: &str = "kantlijn_stem";
/// A browser keeps its vote id for a year after its last vote.
const VOTER_MAX_AGE_SECONDS: u64 = 365 * 86_400;

/// Refused on a reader's own reaction (422).
pub const OWN: FieldMessage = FieldMessage::new(
    "own_reaction",
    "Je kunt je eigen reactie niet als nuttig markeren.",
    "You cannot mark your own reaction as helpful.",
);

/// The button's form: the CSRF token, the thread's order to return to, and on the
/// article page's one shared form the reaction whose button was pressed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct VoteForm {
    pub sorteer: String,
    pub reactie: String,
}

/// The vote id of this browser's cookie, when it has a valid one.
pub fn voter_id(keys: &Keys, cookies: &CookieJar) -> Option<String> {
    let cookie = cookies.get(VOTER_COOKIE)?;
    keys.verify(cookie.value_str()).map(str::to_owned)
}

fn voter_cookie(keys: &Keys, id: &str, secure: bool) -> Cookie {
    let mut cookie = Cookie::new_with_str(VOTER_COOKIE, keys.sign(id));
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_secure(secure);
    cookie.set_path("/");
    cookie.set_max_age(std::time::Duration::from_secs(VOTER_MAX_AGE_SECONDS));
    cookie
}

/// Toggles this reader's vote on an approved reaction of a published article: 303 back
/// to the reaction, or `{helpful_count, voted}` for the page's script.
#[handler]
pub async fn toggle(
    Data(state): Data<&AppState>,
    req: &Request,
    cookies: &CookieJar,
    client: ClientIp,
    Path((slug, id)): Path<(String, i32)>,
    HtmlForm(form): HtmlForm<VoteForm>,
) -> AppResult<Response> {
    toggle_vote(state, req, cookies, client, &slug, id, &form).await
}

/// The same from the article page's one shared form (`/artikelen/{slug}/nuttig`): each
/// button sends its reaction as `reactie`, so a page of a hundred buttons carries one
/// address, not a hundred.
#[handler]
pub async fn toggle_picked(
    Data(state): Data<&AppState>,
    req: &Request,
    cookies: &CookieJar,
    client: ClientIp,
    Path(slug): Path<String>,
    HtmlForm(form): HtmlForm<VoteForm>,
) -> AppResult<Response> {
    let id = form
        .reactie
        .trim()
        .parse()
        .map_err(|_| AppError::NotFound)?;
    toggle_vote(state, req, cookies, client, &slug, id, &form).await
}

async fn toggle_vote(
    state: &AppState,
    req: &Request,
    cookies: &CookieJar,
    client: ClientIp,
    slug: &str,
    id: i32,
    form: &VoteForm,
) -> AppResult<Response> {
    let article = threads::published_article(state, slug)
        .await?
        .ok_or(AppError::NotFound)?;
    let known = voter_id(&state.keys, cookies);
    let voter = known.clone().unwrap_or_else(security::random_token);
    let keys = VoterKeys {
        voter: Some(state.keys.voter_hash(&voter)),
        ip_hash: client.address_hash(&state.keys).stored,
    };
    let target = Target {
        comment_id: id,
        article_id: Some(article.id),
        own: OwnReactions::from_cookies(&state.keys, cookies)
            .key_for(id)
            .is_some(),
    };
    let tally = answer(votes::cast(&state.db, target, &keys, Wish::Toggle).await?)?;
    if known.is_none() {
        let secure = state.settings.secure_cookies();
        cookies.add(voter_cookie(&state.keys, &voter, secure));
    }
    if wants_json(req) {
        return Ok(Response::builder().content_type("application/json").body(
            serde_json::json!({"helpful_count": tally.helpful_count, "voted": tally.voted})
                .to_string(),
        ));
    }
    let order = match form.sorteer.as_str() {
        order @ ("oud" | "nieuw" | "nuttig") => format!("&sorteer={order}"),
        _ => String::new(),
    };
    Ok(see_other(&format!(
        "/artikelen/{slug}?reactie={id}{order}#reactie-{id}"
    )))
}

/// The count, or the page's answer for a vote that was refused.
fn answer(voted: Voted) -> AppResult<Tally> {
    match voted {
        Voted::Counted(tally) => Ok(tally),
        Voted::NotFound => Err(AppError::NotFound),
        Voted::Own => Err(AppError::Invalid {
            field: "id",
            message: OWN,
        }),
    }
}

/// The page's script asks for JSON; a form post asks for a page.
fn wants_json(req: &Request) -> bool {
    req.header(header::ACCEPT)
        .is_some_and(|accept| accept.contains("application/json"))
}
