//! Readers post reactions and replies, and edit or delete their own for a short while.

use std::borrow::Cow;

use chrono::Utc;
use poem::{
    Response, handler,
    http::{StatusCode, header},
    web::{
        Data, Path,
        cookie::{Cookie, CookieJar, SameSite},
    },
};
use serde::Deserialize;

use askama::Template;

use crate::{
    app::AppState,
    discussion::{self, FormSignals, Outcome, RawComment, Submission},
    domain::{
        preview::ReactionPreview,
        thread::Sort,
        validate::{CommentBody, FieldErrors},
    },
    entity::{articles, comments},
    error::{AppError, AppResult, seconds_nl},
    security::Keys,
    store,
    web::{
        HtmlForm,
        auth::Viewer,
        middleware::{
            client_ip::ClientIp,
            rate_limit::{FormLimit, RetryAfter},
        },
        public::{self, ArticleContext, PageWanted},
        render_with_status, see_other,
        views::{EditReactionPage, Layout, ReactionFormView, ReactionPreviewFragment},
    },
};

/// The cookie that remembers which reactions this browser posted, with their edit keys.
pub const OWN_COOKIE: &str = "kantlijn_reacties";
/// The hidden field bots fill in and people never see.
pub const HONEYPOT_FIELD: &str = "bijzonderheden";
/// The field of the form's "Voorbeeld bekijken" button: show the reaction, store nothing.
pub const PREVIEW_FIELD: &str = "voorbeeld";
const OWN_MAX: usize = 20;

/// The reaction form as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReactionForm {
    pub author_name: String,
    pub author_email: String,
    pub author_url: String,
    pub body: String,
    pub parent_id: String,
    pub form_token: String,
    pub bijzonderheden: String,
    /// "on" when "Mail me als iemand reageert" is ticked.
    pub notify_replies: String,
    /// The order the thread was shown in (`?sorteer=`), kept after posting.
    pub sorteer: String,
}

impl ReactionForm {
    /// The order the thread was shown in when the form was filled in.
    pub fn sort(&self) -> Sort {
        Sort::from_query(Some(&self.sorteer))
    }

    /// Whether the poster ticked the notifications box.
    pub fn wants_notifications(&self) -> bool {
        !self.notify_replies.trim().is_empty()
    }
}

/// Reactions this browser posted: (id, edit key), newest first, from a signed cookie.
#[derive(Clone, Debug, Default)]
pub struct OwnReactions(Vec<(i32, String)>);

impl OwnReactions {
    pub fn from_cookies(keys: &Keys, cookies: &CookieJar) -> Self {
        let Some(cookie) = cookies.get(OWN_COOKIE) else {
            return Self::default();
        };
        let Some(payload) = keys.verify(cookie.value_str()) else {
            return Self::default();
        };
        Self(
            payload
                .split('|')
                .filter_map(|entry| {
                    let (id, key) = entry.split_once('~')?;
                    Some((id.parse().ok()?, key.to_owned()))
                })
                .collect(),
        )
    }

    /// The ids of the reactions this browser posted.
    pub fn ids(&self) -> Vec<i32> {
        self.0.iter().map(|(id, _)| *id).collect()
    }

    pub fn key_for(&self, id: i32) -> Option<&str> {
        self.0
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, k)| k.as_str())
    }

    fn with(mut self, id: i32, key: String) -> Self {
        self.0.retain(|(i, _)| *i != id);
        self.0.insert(0, (id, key));
        self.0.truncate(OWN_MAX);
        self
    }

    fn cookie(&self, keys: &Keys, secure: bool) -> Cookie {
        let payload = self
            .0
            .iter()
            .map(|(id, key)| format!("{id}~{key}"))
            .collect::<Vec<_>>()
            .join("|");
        let mut cookie = Cookie::new_with_str(OWN_COOKIE, keys.sign(&payload));
        cookie.set_http_only(true);
        cookie.set_same_site(SameSite::Lax);
        cookie.set_secure(secure);
        cookie.set_path("/");
        cookie.set_max_age(std::time::Duration::from_secs(30 * 86_400));
        cookie
    }
}

/// A signed "form served at" token for the 2-second rule.
pub fn form_token(keys: &Keys) -> String {
    keys.sign(&format!("form-{}", Utc::now().timestamp_millis()))
}

/// A reaction form is good for a day after it was served.
const FORM_MAX_AGE_SECONDS: i64 = 24 * 60 * 60;

const STALE: &str = "Dit formulier stond langer dan een dag open. Je tekst staat er nog: \
                     verstuur je reactie gerust opnieuw.";

/// Whether a form token is ours and less than a day old.
pub fn form_token_is_current(keys: &Keys, token: &str) -> bool {
    form_age_seconds(keys, token).is_some_and(|age| age <= FORM_MAX_AGE_SECONDS)
}

/// Seconds since the form was served, or `None` for a missing or forged token.
fn form_age_seconds(keys: &Keys, token: &str) -> Option<i64> {
    let served: i64 = keys.verify(token)?.strip_prefix("form-")?.parse().ok()?;
    Some((Utc::now().timestamp_millis() - served).div_euclid(1000))
}

/// Posts a reaction, or (with the "Voorbeeld bekijken" button, see [`PREVIEW_FIELD`])
/// shows the form again with a preview and stores nothing.
#[handler]
pub async fn create(
    Data(state): Data<&AppState>,
    viewer: Viewer,
    cookies: &CookieJar,
    client: ClientIp,
    Path(slug): Path<String>,
    limit: FormLimit,
    HtmlForm(form): HtmlForm<ReactionForm>,
) -> AppResult<Response> {
    let article = store::articles::find_readable(state.db.read(), &slug, viewer.staff.is_some())
        .await?
        .ok_or(AppError::NotFound)?;
    let own = OwnReactions::from_cookies(&state.keys, cookies);
    let again = Again {
        state,
        viewer: &viewer,
        article: &article,
        own: &own,
        form: &form,
    };
    let throttled = limit.throttled.map(|RetryAfter(seconds)| seconds);
    if limit.preview {
        return again.preview(throttled).await;
    }
    if let Some(seconds) = throttled {
        return again.throttled(too_many_reactions(seconds), seconds).await;
    }
    let age_seconds = form_age_seconds(&state.keys, &form.form_token);
    if age_seconds.is_some_and(|age| age > FORM_MAX_AGE_SECONDS) {
        // One token fetched once would otherwise serve a bot for ever; a person who left
        // the page open gets their text back in a fresh form.
        return again.stale().await;
    }
    let submission = Submission {
        article: &article,
        input: raw(&form),
        staff_user_id: viewer.staff.as_ref().map(|s| s.id),
        address: client.address_hash(&state.keys),
        form: Some(FormSignals {
            honeypot_filled: !form.bijzonderheden.trim().is_empty(),
            age_seconds,
        }),
        notify_replies: form.wants_notifications(),
        mailer: crate::notifications::Mailer::of(state),
    };
    let rules = state.rules.get(state.db.read()).await?;
    match discussion::submit(&state.db, rules, &state.metrics, submission).await? {
        Outcome::Stored { comment, edit_key } => {
            let own = own.with(comment.id, edit_key);
            cookies.add(own.cookie(&state.keys, state.settings.secure_cookies()));
            let (id, slug) = (comment.id, &article.slug);
            let sort = form
                .sort()
                .in_links()
                .map(|value| format!("&sorteer={value}"));
            let sort = sort.unwrap_or_default();
            Ok(see_other(&format!(
                "/artikelen/{slug}?reactie={id}{sort}#reactie-{id}"
            )))
        }
        Outcome::Invalid(errors) => again.invalid(errors).await,
        Outcome::Banned => again.refused(BANNED).await,
        Outcome::Closed => again.refused(CLOSED).await,
    }
}

/// The article page again with the reaction form as the reader filled it in: nothing
/// typed is lost, whatever went wrong.
struct Again<'a> {
    state: &'a AppState,
    viewer: &'a Viewer,
    article: &'a articles::Model,
    own: &'a OwnReactions,
    form: &'a ReactionForm,
}

impl Again<'_> {
    async fn invalid(&self, errors: FieldErrors) -> AppResult<Response> {
        self.show(errors, None, StatusCode::UNPROCESSABLE_ENTITY)
            .await
    }

    /// The form with a preview of its body above the buttons. Nothing is stored and no
    /// other field is checked: it is not a submission. The form token is kept (see
    /// [`ReactionFormView::from_form`]), so posting right after a preview is not taken
    /// for a bot's speed.
    async fn preview(&self, throttled: Option<u64>) -> AppResult<Response> {
        if let Some(seconds) = throttled {
            return self.throttled(too_many_previews(seconds), seconds).await;
        }
        if !self.article.reactions_open {
            return self.refused(CLOSED).await;
        }
        let shown = ReactionPreview::of(&self.form.body);
        let status = preview_status(&shown);
        let mut view = self.view(FieldErrors::default(), None);
        view.preview = Some(shown);
        self.render(view, status).await
    }

    async fn refused(&self, notice: &'static str) -> AppResult<Response> {
        self.show(
            FieldErrors::default(),
            Some(notice.into()),
            StatusCode::FORBIDDEN,
        )
        .await
    }

    async fn stale(&self) -> AppResult<Response> {
        self.show(
            FieldErrors::default(),
            Some(STALE.into()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await
    }

    async fn throttled(&self, notice: String, seconds: u64) -> AppResult<Response> {
        let status = StatusCode::TOO_MANY_REQUESTS;
        let mut response = self
            .show(FieldErrors::default(), Some(notice.into()), status)
            .await?;
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, seconds.into());
        Ok(response)
    }

    async fn show(
        &self,
        errors: FieldErrors,
        notice: Option<Cow<'static, str>>,
        status: StatusCode,
    ) -> AppResult<Response> {
        self.render(self.view(errors, notice), status).await
    }

    fn view(&self, errors: FieldErrors, notice: Option<Cow<'static, str>>) -> ReactionFormView {
        ReactionFormView::from_form(self.state, self.article, self.form, errors, notice)
    }

    async fn render(&self, view: ReactionFormView, status: StatusCode) -> AppResult<Response> {
        // A reply comes back on the page of the reaction it answers.
        let wanted = self
            .form
            .parent_id
            .trim()
            .parse()
            .map_or(PageWanted::Number(1), PageWanted::Holding);
        let context = ArticleContext {
            own: self.own,
            form: Some(view),
            wanted,
            sort: self.form.sort(),
        };
        public::render_article(self.state, self.viewer, self.article, context, status).await
    }
}

fn too_many_reactions(seconds: u64) -> String {
    format!(
        "Je plaatst te snel reacties. Probeer het over {} opnieuw. Je tekst is bewaard.",
        seconds_nl(seconds)
    )
}

fn too_many_previews(seconds: u64) -> String {
    format!(
        "Je vraagt te snel voorbeelden op. Probeer het over {} opnieuw. Je tekst is bewaard.",
        seconds_nl(seconds)
    )
}

/// 422 for a body that could not be posted as it is, else 200.
fn preview_status(shown: &ReactionPreview) -> StatusCode {
    if shown.is_refused() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    }
}

/// The field of the script's preview request (with `csrf_token`, which the CSRF check
/// reads).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PreviewForm {
    pub body: String,
}

/// The preview for the reaction form's script: the rendered fragment alone, 422 with the
/// reason for a body that could not be posted. Drafts are 404 but for staff, closed
/// articles 403, as for posting.
#[handler]
pub async fn preview(
    Data(state): Data<&AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    HtmlForm(form): HtmlForm<PreviewForm>,
) -> AppResult<Response> {
    let article = store::articles::find_readable(state.db.read(), &slug, viewer.staff.is_some())
        .await?
        .ok_or(AppError::NotFound)?;
    if !article.reactions_open {
        return Err(AppError::Refused(CLOSED_PREVIEW));
    }
    let shown = ReactionPreview::of(&form.body);
    let status = preview_status(&shown);
    let html = ReactionPreviewFragment { preview: shown }
        .render()
        .map_err(AppError::internal)?;
    Ok(Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8")
        .body(html))
}

const CLOSED: &str =
    "Reageren op dit artikel is gesloten. Je tekst staat hieronder nog, zodat je hem kunt bewaren.";
const CLOSED_PREVIEW: &str = "Reageren op dit artikel is gesloten, dus een voorbeeld tonen kan ook niet meer. Je tekst staat nog in het formulier.";
const BANNED: &str = "Vanaf dit adres of met dit e-mailadres kun je hier geen reacties meer plaatsen. Denk je dat dit een vergissing is? Neem dan contact op met de redactie.";
const TOO_LATE: &str = "Je kunt een reactie tot 15 minuten na het plaatsen bewerken of verwijderen, en alleen in de browser waarmee je hem plaatste.";

fn raw(form: &ReactionForm) -> RawComment<'_> {
    RawComment {
        author_name: &form.author_name,
        author_email: &form.author_email,
        author_url: &form.author_url,
        body: &form.body,
        parent_id: discussion::parse_parent(&form.parent_id),
    }
}

/// The reader's own reaction, when they may still change it; a 403 page otherwise.
async fn own_comment(
    state: &AppState,
    cookies: &CookieJar,
    slug: &str,
    id: i32,
) -> AppResult<(articles::Model, comments::Model)> {
    let article = store::articles::find_by_slug(state.db.read(), slug)
        .await?
        .ok_or(AppError::NotFound)?;
    let comment = store::comments::find(state.db.read(), id)
        .await?
        .filter(|c| c.article_id == article.id)
        .ok_or(AppError::NotFound)?;
    let own = OwnReactions::from_cookies(&state.keys, cookies);
    if !discussion::may_edit(&comment, own.key_for(id), Utc::now()) {
        return Err(AppError::Refused(TOO_LATE));
    }
    Ok((article, comment))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EditForm {
    body: String,
}

#[handler]
pub async fn edit_form(
    Data(state): Data<&AppState>,
    viewer: Viewer,
    cookies: &CookieJar,
    Path((slug, id)): Path<(String, i32)>,
) -> AppResult<Response> {
    let (article, comment) = own_comment(state, cookies, &slug, id).await?;
    let page = EditReactionPage::new(
        Layout::new("Reactie bewerken", &viewer),
        &article,
        &comment,
        comment.body_md.clone(),
        FieldErrors::default(),
    );
    render_with_status(&page, StatusCode::OK)
}

#[handler]
pub async fn update(
    Data(state): Data<&AppState>,
    viewer: Viewer,
    cookies: &CookieJar,
    Path((slug, id)): Path<(String, i32)>,
    HtmlForm(form): HtmlForm<EditForm>,
) -> AppResult<Response> {
    let (article, comment) = own_comment(state, cookies, &slug, id).await?;
    let mut errors = FieldErrors::default();
    let Some(body) = errors.check("body", CommentBody::parse(&form.body)) else {
        let page = EditReactionPage::new(
            Layout::new("Reactie bewerken", &viewer),
            &article,
            &comment,
            form.body,
            errors,
        );
        return render_with_status(&page, StatusCode::UNPROCESSABLE_ENTITY);
    };
    let rules = state.rules.get(state.db.read()).await?;
    let mailer = crate::notifications::Mailer::of(state);
    discussion::edit(&state.db, &rules, comment, body, mailer.as_ref()).await?;
    Ok(see_other(&format!(
        "/artikelen/{slug}?reactie={id}#reactie-{id}"
    )))
}

#[handler]
pub async fn delete(
    Data(state): Data<&AppState>,
    cookies: &CookieJar,
    Path((slug, id)): Path<(String, i32)>,
) -> AppResult<Response> {
    let (_, comment) = own_comment(state, cookies, &slug, id).await?;
    discussion::delete_own(&state.db, comment).await?;
    Ok(see_other(&format!("/artikelen/{slug}#reacties")))
}
