//! Staff login and logout, and the extractors that say who is asking:
//! [`Viewer`] for any page, [`Authorized`] for pages behind a role.

use std::marker::PhantomData;

use chrono::{Duration, Utc};
use poem::{
    FromRequest, Request, RequestBody, Response, handler,
    http::{StatusCode, header},
    web::{
        Data, Query,
        cookie::{Cookie, CookieJar, SameSite},
    },
};
use serde::Deserialize;

use crate::{
    app::AppState,
    domain::validate::Role,
    error::{AppError, AppResult, seconds_nl},
    security, store,
    web::{
        HtmlForm,
        middleware::{
            csrf::{self, CsrfToken},
            rate_limit::{RetryAfter, Throttled},
        },
        render_with_status, see_other,
        views::LoginPage,
    },
};

pub const SESSION_COOKIE: &str = "kantlijn_sessie";
pub const SESSION_DAYS: i64 = 14;

/// A logged-in staff member.
#[derive(Clone, Debug)]
pub struct Staff {
    pub id: i32,
    pub username: String,
    pub display_name: String,
    pub role: Role,
}

/// Whoever is looking at a page: maybe a staff member, always with a CSRF token for forms.
pub struct Viewer {
    pub staff: Option<Staff>,
    pub csrf_token: String,
}

impl<'a> FromRequest<'a> for Viewer {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let state = crate::app::state_of(req)?;
        let staff = match req.cookie().get(SESSION_COOKIE) {
            Some(cookie) => session_staff(state, cookie.value_str()).await?,
            None => None,
        };
        let csrf_token = req
            .extensions()
            .get::<CsrfToken>()
            .map(|t| t.0.clone())
            .unwrap_or_default();
        Ok(Self { staff, csrf_token })
    }
}

async fn session_staff(state: &AppState, token: &str) -> AppResult<Option<Staff>> {
    let hash = security::token_hash(token);
    let Some(user) = store::sessions::find_user(state.db.read(), &hash, Utc::now()).await? else {
        return Ok(None);
    };
    let role = user.role;
    Ok(Some(Staff {
        id: user.id,
        username: user.username,
        display_name: user.display_name,
        role,
    }))
}

/// A rule for which roles may open a page.
pub trait Permission {
    fn allows(role: Role) -> bool;
}

/// Any logged-in staff member.
pub struct AnyStaff;
/// Editors and admins.
pub struct EditArticles;
/// Moderators and admins.
pub struct Moderate;
/// Admins only.
pub struct AdminOnly;

impl Permission for AnyStaff {
    fn allows(_: Role) -> bool {
        true
    }
}
impl Permission for EditArticles {
    fn allows(role: Role) -> bool {
        role.can_edit_articles()
    }
}
impl Permission for Moderate {
    fn allows(role: Role) -> bool {
        role.can_moderate()
    }
}
impl Permission for AdminOnly {
    fn allows(role: Role) -> bool {
        role.is_admin()
    }
}

/// A staff member whose role passes `P`. Not logged in: 303 to the login page;
/// the wrong role: 403.
pub struct Authorized<P> {
    pub staff: Staff,
    pub csrf_token: String,
    _permission: PhantomData<P>,
}

impl<'a, P: Permission> FromRequest<'a> for Authorized<P> {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let viewer = Viewer::from_request(req, body).await?;
        let staff = viewer.staff.ok_or(AppError::LoginRequired)?;
        if !P::allows(staff.role) {
            return Err(AppError::Forbidden.into());
        }
        Ok(Self {
            staff,
            csrf_token: viewer.csrf_token,
            _permission: PhantomData,
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    username: String,
    password: String,
    terug: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginQuery {
    terug: String,
    overal: Option<String>,
}

/// Only paths inside `/beheer` are followed after login, never another site.
fn return_path(wanted: &str) -> &str {
    let local = wanted.starts_with("/beheer") && !wanted.contains("//") && !wanted.contains('\\');
    if local { wanted } else { "/beheer" }
}

#[handler]
pub async fn login_form(viewer: Viewer, Query(query): Query<LoginQuery>) -> AppResult<Response> {
    if viewer.staff.is_some() {
        return Ok(see_other(return_path(&query.terug)));
    }
    let mut page = LoginPage::new(viewer, String::new(), query.terug, None);
    page.everywhere = query.overal.is_some();
    render_with_status(&page, StatusCode::OK)
}

#[handler]
pub async fn login(
    Data(state): Data<&AppState>,
    viewer: Viewer,
    cookies: &CookieJar,
    throttled: Option<Data<&Throttled>>,
    HtmlForm(form): HtmlForm<LoginForm>,
) -> AppResult<Response> {
    if let Some(Data(Throttled(RetryAfter(seconds)))) = throttled {
        let message = format!(
            "Te veel inlogpogingen. Probeer het over {} opnieuw.",
            seconds_nl(*seconds)
        );
        let page = LoginPage::new(viewer, form.username, form.terug, Some(message.into()));
        let mut response = render_with_status(&page, StatusCode::TOO_MANY_REQUESTS)?;
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, (*seconds).into());
        return Ok(response);
    }
    let username = form.username.trim().to_lowercase();
    let user = store::users::find_by_username(state.db.read(), &username).await?;
    let hash = user.as_ref().map_or_else(
        || security::dummy_hash().to_owned(),
        |u| u.password_hash.clone(),
    );
    let password = form.password;
    let matches = security::with_hashing_slot(move || security::verify_password(&password, &hash))
        .await
        .map_err(AppError::internal)?;
    let Some(user) = user.filter(|u| matches && !u.disabled) else {
        let message = "Die combinatie van gebruikersnaam en wachtwoord kennen we niet.";
        let page = LoginPage::new(viewer, form.username, form.terug, Some(message.into()));
        return render_with_status(&page, StatusCode::UNAUTHORIZED);
    };

    if let Some(old) = cookies.get(SESSION_COOKIE) {
        store::sessions::delete(state.db.write(), &security::token_hash(old.value_str())).await?;
    }
    let token = security::random_token();
    let expires_at = Utc::now() + Duration::days(SESSION_DAYS);
    store::sessions::create(
        state.db.write(),
        security::token_hash(&token),
        user.id,
        expires_at,
    )
    .await?;
    cookies.add(session_cookie(state, &token));
    // A new CSRF cookie too: forms opened before the login are not this session's.
    cookies.add(csrf::fresh_cookie(state.settings.secure_cookies()).1);
    tracing::info!(user = %user.username, "logged in");
    Ok(see_other(return_path(&form.terug)))
}

#[handler]
pub async fn logout(Data(state): Data<&AppState>, cookies: &CookieJar) -> AppResult<Response> {
    if let Some(cookie) = cookies.get(SESSION_COOKIE) {
        store::sessions::delete(state.db.write(), &security::token_hash(cookie.value_str()))
            .await?;
    }
    let mut removal = session_cookie(state, "");
    removal.make_removal();
    cookies.add(removal);
    Ok(see_other("/"))
}

/// "Overal uitloggen": ends every session of this staff member, this one included, for
/// a device left logged in somewhere.
#[handler]
pub async fn logout_everywhere(
    Data(state): Data<&AppState>,
    user: Authorized<AnyStaff>,
    cookies: &CookieJar,
) -> AppResult<Response> {
    store::sessions::delete_all_of(state.db.write(), user.staff.id).await?;
    let mut removal = session_cookie(state, "");
    removal.make_removal();
    cookies.add(removal);
    Ok(see_other("/beheer/inloggen?overal=1"))
}

fn session_cookie(state: &AppState, token: &str) -> Cookie {
    let mut cookie = Cookie::new_with_str(SESSION_COOKIE, token);
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_secure(state.settings.secure_cookies());
    cookie.set_path("/");
    cookie.set_max_age(std::time::Duration::from_secs(SESSION_DAYS as u64 * 86_400));
    cookie
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_path_stays_inside_beheer() {
        assert_eq!(return_path("/beheer/artikelen"), "/beheer/artikelen");
        assert_eq!(return_path("https://evil.example"), "/beheer");
        assert_eq!(return_path("/beheer//evil.example"), "/beheer");
        assert_eq!(return_path(""), "/beheer");
        assert_eq!(return_path("/"), "/beheer");
    }
}
