//! The application state and the one route table of the whole site.

use std::sync::Arc;

use poem::{
    EndpointExt, IntoEndpoint, Response, Route,
    endpoint::BoxEndpoint,
    get,
    middleware::{CatchPanic, CookieJarManager},
    post,
};

use crate::{
    config::Settings,
    metrics::Metrics,
    security::Keys,
    store::{self, Db, settings::RulesCache},
    web::middleware::rate_limit::Limiters,
    web::page_cache::{self, PageCache},
    web::{self, admin, auth, feeds, middleware, public, reactions},
};

/// Everything a handler may need, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub keys: Arc<Keys>,
    pub rules: Arc<RulesCache>,
    pub pages: Arc<PageCache>,
    pub settings: Arc<Settings>,
    pub limiters: Arc<Limiters>,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    /// The state with the rate-limit quotas stored in the database (or the defaults).
    pub async fn load(db: Db, settings: Settings) -> Result<Self, sea_orm::DbErr> {
        let quotas = store::settings::quotas(db.read()).await?;
        Ok(Self {
            keys: Arc::new(Keys::derive(&settings.secret)),
            rules: Arc::default(),
            pages: Arc::new(PageCache::new(page_cache::DEFAULT_BUDGET)),
            limiters: Arc::new(Limiters::new(settings.rate_limits, &quotas)),
            metrics: Arc::new(Metrics::new()),
            settings: Arc::new(settings),
            db,
        })
    }
}

/// The whole site: every route, wrapped in the middleware every request passes.
pub fn build(state: AppState) -> BoxEndpoint<'static, Response> {
    with_middleware(routes(), state)
}

/// Every path of the site, in one table.
pub fn routes() -> Route {
    let api = web::api::service();
    let spec = api.spec_endpoint();
    let docs = web::api::docs::endpoint(api.swagger_ui_html());
    let api = api.into_endpoint();
    Route::new()
        .at("/", get(public::index))
        .at("/artikelen/:slug", get(public::show))
        .at("/artikelen/:slug/reacties", post(reactions::create))
        .at(
            "/artikelen/:slug/reacties/:id/bewerken",
            get(reactions::edit_form).post(reactions::update),
        )
        .at(
            "/artikelen/:slug/reacties/:id/verwijderen",
            post(reactions::delete),
        )
        .at("/healthz", get(public::healthz))
        .at("/metrics", get(public::metrics))
        .at("/beheer", get(admin::dashboard))
        .at("/beheer/inloggen", get(auth::login_form).post(auth::login))
        .at("/beheer/uitloggen", post(auth::logout))
        .at("/beheer/artikelen", get(admin::articles::index))
        .at(
            "/beheer/artikelen/nieuw",
            get(admin::articles::new_form).post(admin::articles::create),
        )
        .at(
            "/beheer/artikelen/:id/bewerken",
            get(admin::articles::edit_form).post(admin::articles::update),
        )
        .at("/beheer/voorbeeld", post(admin::articles::preview))
        .at(
            "/beheer/moderatie",
            get(admin::moderation::queue).post(admin::moderation::act),
        )
        .at("/beheer/moderatie/blokkeren", post(admin::moderation::ban))
        .at("/beheer/logboek", get(admin::moderation::log))
        .at(
            "/beheer/instellingen",
            get(admin::settings::edit_form).post(admin::settings::update),
        )
        .at(
            "/beheer/gebruikers",
            get(admin::users::index).post(admin::users::create),
        )
        .at("/feed.xml", get(feeds::articles_feed))
        .at("/artikelen/:slug/feed.xml", get(feeds::reactions_feed))
        .at("/sitemap.xml", get(feeds::sitemap))
        .at(
            "/beheer/tokens",
            get(admin::tokens::index).post(admin::tokens::create),
        )
        .at("/beheer/tokens/:id/intrekken", post(admin::tokens::revoke))
        .at("/api/v1/openapi.json", spec)
        .at("/api/docs", docs)
        .nest("/api/v1", api)
        .at("/static/*path", get(web::static_file))
}

/// Wraps routes in what every request passes, outermost last: compression, CSRF,
/// cookies, rate limits, the body cap, error pages, CORS for the API (outside the error
/// pages, so that errors carry its headers too), panic catching, the request log, the
/// security headers and the state. The stack is boxed halfway: its full type nests
/// deeper than the compiler's layout limit in release builds.
pub fn with_middleware(routes: Route, state: AppState) -> BoxEndpoint<'static, Response> {
    let inner = routes
        .around(middleware::compress::compress)
        .around(middleware::csrf::protect)
        .with(CookieJarManager::new())
        .around(middleware::rate_limit::limit)
        .around(middleware::body_limit::cap)
        .map_to_response()
        .boxed();
    inner
        .around(middleware::errors::render)
        .around(middleware::cors::api)
        .with(CatchPanic::new().with_handler(middleware::errors::panic_page))
        .around(middleware::request_log::trace)
        .around(middleware::security_headers::add)
        .data(state)
        .map_to_response()
        .boxed()
}
