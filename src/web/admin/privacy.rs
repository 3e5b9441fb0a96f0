//! Admins see, export and erase what is kept about an e-mail address, as a reader can
//! with a mailed link. The address travels in POST forms only, never in a URL; every
//! use is logged with the admin's id, and the page shows that log.

use std::collections::HashMap;

use askama::Template;
use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Query},
};
use serde::Deserialize;

use crate::{
    app::AppState,
    domain::{
        privacy::{EraseBody, Use},
        validate::{Email, FieldMessage},
    },
    error::AppResult,
    privacy::{self, Actor},
    store,
    web::{
        HtmlForm,
        auth::{AdminOnly, Authorized},
        privacy::{CHOOSE_BODY, OverviewView, export_response},
        render_with_status, see_other,
        views::{DateView, Layout},
    },
};

/// How many uses of the privacy pages the page lists.
const LOG_LIMIT: u64 = 50;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AddressForm {
    email: String,
    /// The erase form's choice: `keep` or `remove`.
    body: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ErasedQuery {
    gewist: Option<String>,
}

/// One use of the privacy pages, without the address.
pub struct UseRow {
    pub when: DateView,
    pub what: &'static str,
    pub who: String,
    pub reactions: i32,
}

#[derive(Template)]
#[template(path = "admin/privacy.html")]
struct AdminPrivacyPage {
    layout: Layout,
    email: String,
    error: Option<FieldMessage>,
    overview: Option<OverviewView>,
    erased: Option<u32>,
    uses: Vec<UseRow>,
    limit: u64,
}

impl AdminPrivacyPage {
    async fn new(state: &AppState, user: &Authorized<AdminOnly>, email: String) -> AppResult<Self> {
        Ok(Self {
            layout: Layout::for_staff("Privacy", &user.staff, &user.csrf_token),
            email,
            error: None,
            overview: None,
            erased: None,
            uses: uses(state).await?,
            limit: LOG_LIMIT,
        })
    }
}

async fn uses(state: &AppState) -> AppResult<Vec<UseRow>> {
    let names: HashMap<String, String> = store::users::list(state.db.read())
        .await?
        .into_iter()
        .map(|u| (u.id.to_string(), u.username))
        .collect();
    let rows = store::privacy::recent_uses(state.db.read(), LOG_LIMIT).await?;
    Ok(rows
        .into_iter()
        .map(|row| UseRow {
            when: DateView::new(row.created_at),
            what: Use::parse(&row.action).map_or("onbekend", Use::label),
            who: if row.actor == store::audit::READER {
                "lezer (via de link)".to_owned()
            } else {
                names
                    .get(&row.actor)
                    .cloned()
                    .unwrap_or_else(|| format!("gebruiker {}", row.actor))
            },
            reactions: row.reactions,
        })
        .collect())
}

/// The form, and the log of recent uses.
#[handler]
pub async fn index(
    Data(state): Data<&AppState>,
    user: Authorized<AdminOnly>,
    Query(query): Query<ErasedQuery>,
) -> AppResult<Response> {
    let mut page = AdminPrivacyPage::new(state, &user, String::new()).await?;
    page.erased = query.gewist.and_then(|n| n.parse().ok());
    render_with_status(&page, StatusCode::OK)
}

/// The address from the form, or the page again with the error.
async fn address(
    state: &AppState,
    user: &Authorized<AdminOnly>,
    form: &AddressForm,
) -> AppResult<Result<Email, Response>> {
    match Email::parse(&form.email) {
        Ok(email) => Ok(Ok(email)),
        Err(message) => {
            let mut page = AdminPrivacyPage::new(state, user, form.email.clone()).await?;
            page.error = Some(message);
            Ok(Err(render_with_status(
                &page,
                StatusCode::UNPROCESSABLE_ENTITY,
            )?))
        }
    }
}

fn admin_view(overview: privacy::Overview) -> OverviewView {
    let email = overview.email.clone();
    let mut view = OverviewView::new(
        overview,
        "/beheer/privacy/export".to_owned(),
        "/beheer/privacy/wissen".to_owned(),
    );
    view.hidden_email = Some(email);
    view
}

/// What is kept about the address in the form.
#[handler]
pub async fn show(
    Data(state): Data<&AppState>,
    user: Authorized<AdminOnly>,
    HtmlForm(form): HtmlForm<AddressForm>,
) -> AppResult<Response> {
    let email = match address(state, &user, &form).await? {
        Ok(email) => email,
        Err(page) => return Ok(page),
    };
    let overview =
        privacy::overview(&state.db, email.as_ref(), Actor::Admin(user.staff.id)).await?;
    let mut page = AdminPrivacyPage::new(state, &user, email.as_ref().to_owned()).await?;
    page.overview = Some(admin_view(overview));
    render_with_status(&page, StatusCode::OK)
}

#[handler]
pub async fn export(
    Data(state): Data<&AppState>,
    user: Authorized<AdminOnly>,
    HtmlForm(form): HtmlForm<AddressForm>,
) -> AppResult<Response> {
    let email = match address(state, &user, &form).await? {
        Ok(email) => email,
        Err(page) => return Ok(page),
    };
    export_response(&privacy::export(&state.db, email.as_ref(), Actor::Admin(user.staff.id)).await?)
}

#[handler]
pub async fn erase(
    Data(state): Data<&AppState>,
    user: Authorized<AdminOnly>,
    HtmlForm(form): HtmlForm<AddressForm>,
) -> AppResult<Response> {
    let email = match address(state, &user, &form).await? {
        Ok(email) => email,
        Err(page) => return Ok(page),
    };
    let actor = Actor::Admin(user.staff.id);
    let Some(body) = EraseBody::parse(&form.body) else {
        let overview = privacy::overview(&state.db, email.as_ref(), actor).await?;
        let mut page = AdminPrivacyPage::new(state, &user, email.as_ref().to_owned()).await?;
        let mut view = admin_view(overview);
        view.erase_error = Some(CHOOSE_BODY);
        page.overview = Some(view);
        return render_with_status(&page, StatusCode::UNPROCESSABLE_ENTITY);
    };
    let erased = privacy::erase(&state.db, email.as_ref(), body, actor).await?;
    Ok(see_other(&format!("/beheer/privacy?gewist={erased}")))
}
