//! Admins see the staff accounts and add new ones.

use askama::Template;
use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Path},
};
use serde::Deserialize;

use crate::{
    app::AppState,
    domain::validate::{FieldErrors, FieldMessage, Password, Role, Username},
    error::{AppError, AppResult},
    security, store,
    web::{
        HtmlForm,
        auth::{AdminOnly, Authorized},
        render_with_status, see_other,
        views::{DateView, Layout},
    },
};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UserForm {
    username: String,
    role: String,
    password: String,
}

pub struct UserRow {
    /// The form that shuts the account out, for every enabled account but the viewer's.
    pub disable_url: Option<String>,
    pub username: String,
    pub role_label: &'static str,
    pub disabled: bool,
    pub created: DateView,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<UserRow>,
    username: String,
    roles: Vec<RoleOption>,
    errors: FieldErrors,
}

pub struct RoleOption {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

async fn page(
    state: &AppState,
    user: &Authorized<AdminOnly>,
    form: UserForm,
    errors: FieldErrors,
) -> AppResult<UsersPage> {
    let users = store::users::list(state.db.read()).await?;
    Ok(UsersPage {
        layout: Layout::for_staff("Gebruikers", &user.staff, &user.csrf_token),
        users: users
            .into_iter()
            .map(|u| UserRow {
                disable_url: (!u.disabled && u.id != user.staff.id)
                    .then(|| format!("/beheer/gebruikers/{}/uitschakelen", u.id)),
                role_label: u.role.label(),
                username: u.username,
                disabled: u.disabled,
                created: DateView::new(u.created_at),
            })
            .collect(),
        username: form.username,
        roles: [Role::Editor, Role::Moderator, Role::Admin]
            .into_iter()
            .map(|role| RoleOption {
                value: role.as_str(),
                label: role.label(),
                selected: role.as_str() == form.role,
            })
            .collect(),
        errors,
    })
}

#[handler]
pub async fn index(
    Data(state): Data<&AppState>,
    user: Authorized<AdminOnly>,
) -> AppResult<Response> {
    let form = UserForm {
        role: Role::Editor.as_str().to_owned(),
        ..UserForm::default()
    };
    render_with_status(
        &page(state, &user, form, FieldErrors::default()).await?,
        StatusCode::OK,
    )
}

#[handler]
pub async fn create(
    Data(state): Data<&AppState>,
    user: Authorized<AdminOnly>,
    HtmlForm(form): HtmlForm<UserForm>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::default();
    let username = errors.check("username", Username::parse(&form.username));
    let role = errors.check("role", Role::parse(&form.role));
    let password = errors.check("password", Password::parse(&form.password));
    let (Some(username), Some(role), Some(password)) = (username, role, password) else {
        let page = page(state, &user, form, errors).await?;
        return render_with_status(&page, StatusCode::UNPROCESSABLE_ENTITY);
    };
    let hash = security::with_hashing_slot(move || security::hash_password(password.as_ref()))
        .await
        .map_err(AppError::internal)??;
    // An insert: two admins adding the same name at once get one account and one form
    // error, never a silent password reset.
    match store::users::insert(state.db.write(), &username, role, hash).await {
        Ok(_) => Ok(see_other("/beheer/gebruikers")),
        Err(err) if store::is_unique_violation(&err) => {
            errors.insert(
                "username",
                FieldMessage::new(
                    "taken",
                    "Deze gebruikersnaam bestaat al.",
                    "This username is already taken.",
                ),
            );
            let page = page(state, &user, form, errors).await?;
            render_with_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(err) => Err(err.into()),
    }
}

/// Shuts an account out: no more logins, its sessions and API tokens end. An admin
/// cannot shut out themselves (another admin, or `kantlijn user disable`, can).
#[handler]
pub async fn disable(
    Data(state): Data<&AppState>,
    user: Authorized<AdminOnly>,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    if id == user.staff.id {
        return Err(AppError::Refused(
            "Je kunt je eigen account niet uitschakelen. Vraag een andere beheerder, of gebruik `kantlijn user disable` op de server.",
        ));
    }
    let txn = state.db.begin().await?;
    let account = store::users::find_by_id(&txn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    store::users::disable(&txn, account).await?;
    txn.commit().await?;
    Ok(see_other("/beheer/gebruikers"))
}
