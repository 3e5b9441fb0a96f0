//! The reader's privacy pages: what the site keeps and for how long, asking for a
//! mailed link, and behind that link the overview, the export and the erasure.

use askama::Template;
use chrono::Utc;
use poem::{
    Response, handler,
    http::{StatusCode, header},
    web::{Data, Path, Query},
};
use serde::Deserialize;

use crate::{
    app::AppState,
    domain::{
        dates, markdown,
        privacy::EraseBody,
        retention::Retention,
        validate::{Email, FieldMessage},
    },
    entity::mail_subscribers,
    error::{AppError, AppResult, seconds_nl},
    mail::links,
    privacy::{self, Actor, Export, Overview},
    store,
    web::{
        HtmlForm,
        auth::Viewer,
        middleware::rate_limit::{FormLimit, RetryAfter},
        render_with_status, see_other,
        views::{DateView, Layout},
    },
};

/// The form on `/privacy`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RequestForm {
    pub email: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PrivacyQuery {
    /// After a request: the mail is on its way.
    verstuurd: Option<String>,
    /// After an erasure: how many reactions it took.
    gewist: Option<String>,
}

#[derive(Template)]
#[template(path = "privacy.html")]
struct PrivacyPage {
    layout: Layout,
    ip_days: String,
    unhandled_days: String,
    link_hours: i64,
    /// The site sends mail, so the form can mail a link.
    mail: bool,
    email: String,
    error: Option<FieldMessage>,
    notice: Option<String>,
    sent: bool,
    erased: Option<u32>,
}

/// "1 dag", "30 dagen".
fn days_nl(days: u32) -> String {
    if days == 1 {
        "1 dag".to_owned()
    } else {
        format!("{days} dagen")
    }
}

impl PrivacyPage {
    fn new(state: &AppState, viewer: &Viewer, retention: Retention, email: String) -> Self {
        Self {
            layout: Layout::new("Privacy", viewer),
            ip_days: days_nl(retention.ip_days),
            unhandled_days: days_nl(retention.unhandled_days),
            link_hours: links::PRIVACY_LINK_HOURS,
            mail: state.settings.mail.is_some(),
            email,
            error: None,
            notice: None,
            sent: false,
            erased: None,
        }
    }
}

/// What the site keeps, why and how long, with the form that mails a link.
#[handler]
pub async fn show(
    Data(state): Data<&AppState>,
    viewer: Viewer,
    Query(query): Query<PrivacyQuery>,
) -> AppResult<Response> {
    let retention = store::settings::retention(state.db.read()).await?;
    let mut page = PrivacyPage::new(state, &viewer, retention, String::new());
    page.sent = query.verstuurd.is_some();
    page.erased = query.gewist.and_then(|n| n.parse().ok());
    render_with_status(&page, StatusCode::OK)
}

const NO_MAIL: &str = "Deze site verstuurt geen e-mail, dus we kunnen je geen link sturen. \
    Wil je weten wat we over je bewaren, of wil je het laten wissen? Mail dan de redactie \
    vanaf het adres waarmee je reageerde; zij regelen het voor je.";

/// Mails a link to the address, or word that nothing is kept about it: the answer on
/// the page is the same either way.
#[handler]
pub async fn request(
    Data(state): Data<&AppState>,
    viewer: Viewer,
    limit: FormLimit,
    HtmlForm(form): HtmlForm<RequestForm>,
) -> AppResult<Response> {
    let retention = store::settings::retention(state.db.read()).await?;
    let mut page = PrivacyPage::new(state, &viewer, retention, form.email.clone());
    if let Some(RetryAfter(seconds)) = limit.throttled {
        page.notice = Some(format!(
            "Je vroeg kort na elkaar te vaak een link aan. Probeer het over {} opnieuw.",
            seconds_nl(seconds)
        ));
        let mut response = render_with_status(&page, StatusCode::TOO_MANY_REQUESTS)?;
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, seconds.into());
        return Ok(response);
    }
    if state.settings.mail.is_none() {
        page.notice = Some(NO_MAIL.to_owned());
        return render_with_status(&page, StatusCode::OK);
    }
    let email = match Email::parse(&form.email) {
        Ok(email) => email,
        Err(message) => {
            page.error = Some(message);
            return render_with_status(&page, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let links = privacy::Links {
        keys: &state.keys,
        base_url: &state.settings.base_url,
    };
    privacy::request(&state.db, links, &email, Utc::now()).await?;
    Ok(see_other("/privacy?verstuurd=1"))
}

/// One reaction in the overview.
pub struct ReactionRow {
    pub id: i32,
    pub article_title: String,
    /// Where it stands, when readers can see the article.
    pub url: Option<String>,
    pub created: DateView,
    pub status: &'static str,
    pub excerpt: String,
    pub reply: bool,
}

/// What is kept about an address, for the reader's page and the admin's alike.
pub struct OverviewView {
    pub email: String,
    pub reactions: Vec<ReactionRow>,
    pub notifications: String,
    /// The reader downloads with a link, an admin with a POST (the address stays out of
    /// URLs).
    pub export_url: String,
    pub erase_url: String,
    /// For the admin's forms, which name the address in a hidden field.
    pub hidden_email: Option<String>,
    pub erase_error: Option<&'static str>,
}

impl OverviewView {
    pub fn new(overview: Overview, export_url: String, erase_url: String) -> Self {
        let wants_mail = overview.reactions.iter().any(|(c, _)| c.notify_replies);
        Self {
            notifications: notifications(overview.subscriber.as_ref(), wants_mail),
            reactions: overview
                .reactions
                .into_iter()
                .map(|(c, article)| ReactionRow {
                    url: article.status.is_published().then(|| {
                        if c.status.is_public() {
                            format!(
                                "/artikelen/{}?reactie={}#reactie-{}",
                                article.slug, c.id, c.id
                            )
                        } else {
                            format!("/artikelen/{}", article.slug)
                        }
                    }),
                    id: c.id,
                    article_title: article.title,
                    created: DateView::new(c.created_at),
                    status: c.status.state(),
                    excerpt: markdown::reaction_excerpt(&c.body_md, 200),
                    reply: c.parent_id.is_some(),
                })
                .collect(),
            email: overview.email,
            export_url,
            erase_url,
            hidden_email: None,
            erase_error: None,
        }
    }
}

const UNCONFIRMED: &str =
    "Je vroeg om mail bij antwoorden, maar bevestigde dat (nog) niet: je krijgt die mail niet.";

/// The reader's consent to reply notifications, in a sentence.
fn notifications(subscriber: Option<&mail_subscribers::Model>, wants_mail: bool) -> String {
    match subscriber {
        Some(mail_subscribers::Model {
            unsubscribed_at: Some(at),
            ..
        }) => format!(
            "Je hebt je op {} afgemeld voor mail bij antwoorden.",
            dates::long_date(*at)
        ),
        Some(mail_subscribers::Model {
            confirmed_at: Some(at),
            ..
        }) => format!(
            "Je krijgt mail als iemand op je reactie antwoordt; je bevestigde dat op {}.",
            dates::long_date(*at)
        ),
        Some(_) => UNCONFIRMED.to_owned(),
        None if wants_mail => UNCONFIRMED.to_owned(),
        None => "Je krijgt van ons geen mail bij antwoorden op je reacties.".to_owned(),
    }
}

#[derive(Template)]
#[template(path = "privacy_overview.html")]
struct OverviewPage {
    layout: Layout,
    overview: OverviewView,
    link_hours: i64,
}

#[derive(Template)]
#[template(path = "privacy_gone.html")]
struct GonePage {
    layout: Layout,
    link_hours: i64,
}

/// The answer to a link that does not (or no longer) work: forged, expired, or used up
/// by an erasure.
fn gone(viewer: &Viewer) -> AppResult<Response> {
    let page = GonePage {
        layout: Layout::new("Deze link werkt niet (meer)", viewer),
        link_hours: links::PRIVACY_LINK_HOURS,
    };
    render_with_status(&page, StatusCode::NOT_FOUND)
}

/// The token in the path and the address its link is for, while the link works. A
/// path that is not even text (bad percent-encoding) is a link that does not work too.
async fn linked_address(
    state: &AppState,
    token: poem::Result<Path<String>>,
) -> AppResult<Option<(String, String)>> {
    let Ok(Path(token)) = token else {
        return Ok(None);
    };
    let email = privacy::address_of_link(&state.db, &state.keys, &token, Utc::now()).await?;
    Ok(email.map(|email| (token, email)))
}

fn reader_view(overview: Overview, token: &str) -> OverviewView {
    OverviewView::new(
        overview,
        format!("/privacy/{token}/export.json"),
        format!("/privacy/{token}/wissen"),
    )
}

/// The reader's reactions and what else is kept, behind a mailed link.
#[handler]
pub async fn data(
    Data(state): Data<&AppState>,
    viewer: Viewer,
    token: poem::Result<Path<String>>,
) -> AppResult<Response> {
    let Some((token, email)) = linked_address(state, token).await? else {
        return gone(&viewer);
    };
    let overview = privacy::overview(&state.db, &email, Actor::Reader).await?;
    let page = OverviewPage {
        layout: Layout::new("Je gegevens", &viewer),
        overview: reader_view(overview, &token),
        link_hours: links::PRIVACY_LINK_HOURS,
    };
    render_with_status(&page, StatusCode::OK)
}

/// The file name of every export.
const EXPORT_FILE: &str = "kantlijn-gegevens.json";

/// An export as a JSON download.
pub fn export_response(export: &Export) -> AppResult<Response> {
    let json = serde_json::to_vec_pretty(export).map_err(AppError::internal)?;
    Ok(Response::builder()
        .content_type("application/json; charset=utf-8")
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{EXPORT_FILE}\""),
        )
        .body(json))
}

#[handler]
pub async fn download(
    Data(state): Data<&AppState>,
    viewer: Viewer,
    token: poem::Result<Path<String>>,
) -> AppResult<Response> {
    let Some((_, email)) = linked_address(state, token).await? else {
        return gone(&viewer);
    };
    export_response(&privacy::export(&state.db, &email, Actor::Reader).await?)
}

/// The erase form: `body` is `keep` or `remove`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EraseForm {
    pub body: String,
}

pub const CHOOSE_BODY: &str = "Kies of de tekst van je reacties blijft staan of ook verdwijnt.";

#[handler]
pub async fn erase(
    Data(state): Data<&AppState>,
    viewer: Viewer,
    token: poem::Result<Path<String>>,
    HtmlForm(form): HtmlForm<EraseForm>,
) -> AppResult<Response> {
    let Some((token, email)) = linked_address(state, token).await? else {
        return gone(&viewer);
    };
    let Some(body) = EraseBody::parse(&form.body) else {
        let overview = privacy::overview(&state.db, &email, Actor::Reader).await?;
        let mut view = reader_view(overview, &token);
        view.erase_error = Some(CHOOSE_BODY);
        let page = OverviewPage {
            layout: Layout::new("Je gegevens", &viewer),
            overview: view,
            link_hours: links::PRIVACY_LINK_HOURS,
        };
        return render_with_status(&page, StatusCode::UNPROCESSABLE_ENTITY);
    };
    let erased = privacy::erase(&state.db, &email, body, Actor::Reader).await?;
    Ok(see_other(&format!("/privacy?gewist={erased}")))
}
