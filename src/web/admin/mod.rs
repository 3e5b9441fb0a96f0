//! The staff pages under `/beheer`.

pub mod account;
pub mod articles;
pub mod import;
pub mod moderation;
pub mod privacy;
pub mod settings;
pub mod tokens;
pub mod users;

use askama::Template;
use poem::{handler, web::Html};

use crate::{
    error::AppResult,
    web::{
        auth::{AnyStaff, Authorized},
        render,
        views::Layout,
    },
};

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage {
    layout: Layout,
}

#[handler]
pub async fn dashboard(user: Authorized<AnyStaff>) -> AppResult<Html<String>> {
    render(&DashboardPage {
        layout: Layout::for_staff("Beheer", &user.staff, &user.csrf_token),
    })
}
