//! Admins create, list and revoke API tokens. A new token is shown once.

use askama::Template;
use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Path},
};
use serde::Deserialize;

use crate::{
    app::AppState,
    domain::{
        dates,
        validate::{FieldErrors, FieldMessage, TokenLabel, Username},
    },
    error::{AppError, AppResult},
    security, store,
    web::{
        HtmlForm,
        auth::{AdminOnly, Authorized},
        render_with_status, see_other,
        views::Layout,
    },
};

pub struct TokenView {
    pub id: i32,
    pub label: String,
    pub username: String,
    pub created: String,
    pub last_used: String,
}

pub struct UserOption {
    pub username: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "admin/tokens.html")]
struct TokensPage {
    layout: Layout,
    tokens: Vec<TokenView>,
    users: Vec<UserOption>,
    label: String,
    errors: FieldErrors,
    /// The token just created: shown this once.
    new_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TokenForm {
    username: String,
    label: String,
}

async fn page(
    state: &AppState,
    user: &Authorized<AdminOnly>,
    form: &TokenForm,
    errors: FieldErrors,
    new_token: Option<String>,
) -> AppResult<TokensPage> {
    let tokens = store::tokens::list(state.db.read()).await?;
    let users = store::users::list(state.db.read()).await?;
    Ok(TokensPage {
        layout: Layout::for_staff("API-tokens", &user.staff, &user.csrf_token),
        tokens: tokens
            .into_iter()
            .map(|t| TokenView {
                id: t.id,
                label: t.label,
                username: t.username,
                created: dates::exact(t.created_at),
                last_used: t
                    .last_used_at
                    .map_or_else(|| "nog nooit".to_owned(), dates::exact),
            })
            .collect(),
        users: users
            .into_iter()
            .map(|u| UserOption {
                selected: u.username == form.username,
                username: u.username,
            })
            .collect(),
        label: form.label.clone(),
        errors,
        new_token,
    })
}

#[handler]
pub async fn index(
    Data(state): Data<&AppState>,
    user: Authorized<AdminOnly>,
) -> AppResult<Response> {
    let form = TokenForm {
        username: user.staff.username.clone(),
        label: String::new(),
    };
    render_with_status(
        &page(state, &user, &form, FieldErrors::default(), None).await?,
        StatusCode::OK,
    )
}

#[handler]
pub async fn create(
    Data(state): Data<&AppState>,
    user: Authorized<AdminOnly>,
    HtmlForm(form): HtmlForm<TokenForm>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::default();
    let owner = match Username::parse(&form.username) {
        Ok(name) => store::users::find_by_username(state.db.read(), name.as_ref()).await?,
        Err(_) => None,
    };
    if owner.is_none() {
        errors.insert(
            "username",
            FieldMessage::new(
                "unknown_user",
                "Kies een bestaande gebruiker.",
                "Choose an existing user.",
            ),
        );
    }
    let label = errors.check("label", TokenLabel::parse(&form.label));
    let (Some(owner), Some(label)) = (owner, label) else {
        return render_with_status(
            &page(state, &user, &form, errors, None).await?,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let token = security::new_api_token();
    store::tokens::create(
        state.db.write(),
        security::token_hash(&token),
        owner.id,
        &label,
    )
    .await?;
    let fresh = TokenForm {
        username: form.username.clone(),
        label: String::new(),
    };
    render_with_status(
        &page(state, &user, &fresh, FieldErrors::default(), Some(token)).await?,
        StatusCode::CREATED,
    )
}

#[handler]
pub async fn revoke(
    Data(state): Data<&AppState>,
    _user: Authorized<AdminOnly>,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    if !store::tokens::revoke(state.db.write(), id).await? {
        return Err(AppError::NotFound);
    }
    Ok(see_other("/beheer/tokens"))
}
