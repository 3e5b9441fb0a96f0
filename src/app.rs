//! The application state and the one route table of the whole site.

use std::sync::{Arc, LazyLock};

use poem::{
    EndpointExt, IntoEndpoint, Response, Route,
    endpoint::BoxEndpoint,
    get,
    http::Method,
    middleware::{CatchPanic, CookieJarManager},
    post,
};

use crate::{
    config::Settings,
    domain::limits::Action,
    metrics::Metrics,
    security::Keys,
    store::{self, Db, settings::RulesCache},
    web::middleware::rate_limit::Limiters,
    web::page_cache::{self, PageCache},
    web::{
        self, admin, auth, feeds, middleware, notifications, privacy, public, reactions, recent,
        search, votes,
    },
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
            limiters: Arc::new(match &settings.redis {
                Some(redis) => Limiters::shared(settings.rate_limits, &quotas, redis),
                None => Limiters::new(settings.rate_limits, &quotas),
            }),
            metrics: Arc::new(Metrics::new()),
            settings: Arc::new(settings),
            db,
        })
    }
}

/// The site's state, which [`build`] gives every request before any middleware or
/// handler sees it; a request without it is a bug, answered 500.
pub fn state_of(req: &poem::Request) -> Result<&AppState, crate::error::AppError> {
    req.data::<AppState>().ok_or_else(|| {
        crate::error::AppError::internal(anyhow::anyhow!("the request carries no AppState"))
    })
}

/// The whole site: every route, wrapped in the middleware every request passes.
pub fn build(state: AppState) -> BoxEndpoint<'static, Response> {
    with_middleware(routes(), state)
}

/// Who a route answers, which decides how the middleware treats it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Surface {
    /// People in a browser: forms carry a CSRF token, errors are Dutch pages.
    Page,
    /// Programs: bearer tokens instead of cookies, JSON errors, CORS.
    Api,
}

/// What the middleware needs to know of a route, declared with it in [`table`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteClass {
    /// The `route` label of the request metrics.
    pub label: &'static str,
    pub surface: Surface,
    /// The rate limit a POST to this route falls under.
    pub post_limit: Action,
    /// The rate limit of any other method (a search is a GET).
    pub get_limit: Action,
    /// A POST whose form carries this field asks for a preview of what it would store:
    /// it counts as `Action::Preview`, and its handler stores nothing.
    pub preview_field: Option<&'static str>,
    /// Staff data, or an answer made for one reader alone: answered with
    /// `Cache-Control: no-store`.
    pub private: bool,
    /// A POST that carries no CSRF token: a mail client's one-click unsubscribe (RFC
    /// 8058) has no cookie to pair one with. Only for a route whose own signed token
    /// says what it may do, and all it may do is stop mail.
    pub without_csrf: bool,
    /// A file upload (multipart) of at most this many bytes, streamed to its handler
    /// instead of read into memory: the 64 KiB cap does not apply, the CSRF token comes
    /// as the form's first field and the handler checks it before it reads the file.
    pub upload: Option<u64>,
}

impl RouteClass {
    const fn page(label: &'static str) -> Self {
        Self {
            label,
            surface: Surface::Page,
            post_limit: Action::Other,
            get_limit: Action::Other,
            preview_field: None,
            private: false,
            without_csrf: false,
            upload: None,
        }
    }

    const fn api() -> Self {
        Self {
            label: "api",
            surface: Surface::Api,
            post_limit: Action::Other,
            get_limit: Action::Other,
            preview_field: None,
            private: false,
            without_csrf: false,
            upload: None,
        }
    }

    const fn without_csrf(self) -> Self {
        Self {
            without_csrf: true,
            ..self
        }
    }

    const fn upload(self, max_bytes: u64) -> Self {
        Self {
            upload: Some(max_bytes),
            ..self
        }
    }

    const fn limited(self, post_limit: Action) -> Self {
        Self { post_limit, ..self }
    }

    /// Reading this route (a search) falls under `get_limit`.
    const fn read_limited(self, get_limit: Action) -> Self {
        Self { get_limit, ..self }
    }

    const fn previewed_by(self, field: &'static str) -> Self {
        Self {
            preview_field: Some(field),
            ..self
        }
    }

    const fn private(self) -> Self {
        Self {
            private: true,
            ..self
        }
    }

    /// The rate limit of a request to this route; `previewing` when its form carries
    /// the route's [`RouteClass::preview_field`].
    pub fn limit(self, method: &Method, previewing: bool) -> Action {
        match (
            method == Method::POST,
            previewing && self.preview_field.is_some(),
        ) {
            (true, true) => Action::Preview,
            (true, false) => self.post_limit,
            (false, _) => self.get_limit,
        }
    }
}

/// The class of a path no route declares.
const OTHER: RouteClass = RouteClass::page("other");

/// Every route of the site, in one table, each with its class.
fn table() -> Table {
    let api = web::api::service();
    let allowed = web::api::allow::Allowed::from_spec(&api.spec(), "/api/v1");
    let spec = api.spec_endpoint();
    let docs = web::api::docs::endpoint(api.swagger_ui_html());
    let page = RouteClass::page;
    let admin = page("staff").private();
    Table::default()
        .at("/", page("home"), get(public::index))
        .at("/artikelen/:slug", page("article"), get(public::show))
        .at(
            "/artikelen/:slug/reacties",
            page("reaction")
                .limited(Action::Reaction)
                .previewed_by(reactions::PREVIEW_FIELD),
            post(reactions::create),
        )
        .at(
            "/artikelen/:slug/voorbeeld",
            page("preview").limited(Action::Preview).private(),
            post(reactions::preview),
        )
        .at(
            "/artikelen/:slug/reacties/:id/bewerken",
            page("reaction"),
            get(reactions::edit_form).post(reactions::update),
        )
        .at(
            "/artikelen/:slug/reacties/:id/verwijderen",
            page("reaction"),
            post(reactions::delete),
        )
        .at(
            "/artikelen/:slug/reacties/:id/nuttig",
            page("vote").limited(Action::Vote).private(),
            post(votes::toggle),
        )
        .at(
            "/artikelen/:slug/nuttig",
            page("vote").limited(Action::Vote).private(),
            post(votes::toggle_picked),
        )
        .at(
            "/artikelen/:slug/feed.xml",
            page("feed"),
            get(feeds::reactions_feed),
        )
        .at(
            "/privacy",
            page("privacy").limited(Action::Privacy).private(),
            get(privacy::show).post(privacy::request),
        )
        .at(
            "/privacy/:token",
            page("privacy").private(),
            get(privacy::data),
        )
        .at(
            "/privacy/:token/export.json",
            page("privacy").private(),
            get(privacy::download),
        )
        .at(
            "/privacy/:token/wissen",
            page("privacy").private(),
            post(privacy::erase),
        )
        .at(
            "/zoeken",
            page("search").read_limited(Action::Search),
            get(search::show),
        )
        .at("/reacties", page("recent"), get(recent::index))
        .at("/reacties/feed.xml", page("feed"), get(feeds::recent_feed))
        .at("/feed.xml", page("feed"), get(feeds::articles_feed))
        .at("/sitemap.xml", page("feed"), get(feeds::sitemap))
        .at(
            "/meldingen/bevestigen/:token",
            page("mail").private(),
            get(notifications::confirm_form).post(notifications::confirm),
        )
        .at(
            "/afmelden/:token",
            page("mail").private().without_csrf(),
            get(notifications::unsubscribe_form).post(notifications::unsubscribe),
        )
        .at("/healthz", page("health"), get(public::healthz))
        .at("/metrics", page("metrics").private(), get(public::metrics))
        .at("/beheer", admin, get(admin::dashboard))
        .at(
            "/beheer/inloggen",
            admin.limited(Action::Login),
            get(auth::login_form).post(auth::login),
        )
        .at("/beheer/uitloggen", admin, post(auth::logout))
        .at(
            "/beheer/account",
            admin,
            get(admin::account::show).post(admin::account::update),
        )
        .at("/beheer/artikelen", admin, get(admin::articles::index))
        .at(
            "/beheer/artikelen/nieuw",
            admin,
            get(admin::articles::new_form).post(admin::articles::create),
        )
        .at(
            "/beheer/artikelen/:id/bewerken",
            admin,
            get(admin::articles::edit_form).post(admin::articles::update),
        )
        .at(
            "/beheer/voorbeeld",
            admin.limited(Action::Preview),
            post(admin::articles::preview),
        )
        .at(
            "/beheer/moderatie",
            admin,
            get(admin::moderation::queue).post(admin::moderation::act),
        )
        .at(
            "/beheer/moderatie/blokkeren",
            admin,
            post(admin::moderation::ban),
        )
        .at("/beheer/logboek", admin, get(admin::moderation::log))
        .at(
            "/beheer/instellingen",
            admin,
            get(admin::settings::edit_form).post(admin::settings::update),
        )
        .at(
            "/beheer/gebruikers",
            admin,
            get(admin::users::index).post(admin::users::create),
        )
        .at(
            "/beheer/gebruikers/:id/uitschakelen",
            admin,
            post(admin::users::disable),
        )
        .at(
            "/beheer/overal-uitloggen",
            admin,
            post(auth::logout_everywhere),
        )
        .at(
            "/beheer/tokens",
            admin,
            get(admin::tokens::index).post(admin::tokens::create),
        )
        .at(
            "/beheer/privacy",
            admin,
            get(admin::privacy::index).post(admin::privacy::show),
        )
        .at(
            "/beheer/privacy/export",
            admin,
            post(admin::privacy::export),
        )
        .at("/beheer/privacy/wissen", admin, post(admin::privacy::erase))
        .at(
            "/beheer/import",
            admin.upload(admin::import::MAX_UPLOAD_BYTES),
            get(admin::import::index).post(admin::import::upload),
        )
        .at(
            "/beheer/tokens/:id/intrekken",
            admin,
            post(admin::tokens::revoke),
        )
        .at("/api/docs", page("api"), docs)
        .at("/api/v1/openapi.json", RouteClass::api(), spec)
        // Inside the API's own router, declared for their class only.
        .class(
            "/api/v1/articles/:slug/comments",
            RouteClass::api().limited(Action::Reaction),
        )
        .class("/api/v1/moderation/*rest", RouteClass::api().private())
        .class(
            "/api/v1/search",
            RouteClass::api().read_limited(Action::Search),
        )
        .class(
            "/api/v1/comments/:id/moderation",
            RouteClass::api().private(),
        )
        // POST votes, DELETE takes the vote back: both count as votes.
        .class(
            "/api/v1/comments/:id/vote",
            RouteClass::api()
                .limited(Action::Vote)
                .read_limited(Action::Vote)
                .private(),
        )
        .nest(
            "/api/v1",
            RouteClass::api(),
            web::api::allow::with_allow(api.into_endpoint(), allowed),
        )
        .at("/static/*path", page("static"), get(web::static_file))
        .at("/favicon.ico", page("static"), get(web::favicon))
}

/// The routes and, for the middleware, the class of each.
#[derive(Default)]
struct Table {
    route: Route,
    /// First match wins.
    classes: Vec<Declared>,
}

/// A pattern in poem's syntax (`:name` one segment, `*name` the rest) and its class; a
/// nest's prefix covers every path below it.
struct Declared {
    pattern: &'static str,
    nest: bool,
    class: RouteClass,
}

impl Table {
    fn at<E>(mut self, pattern: &'static str, class: RouteClass, endpoint: E) -> Self
    where
        E: IntoEndpoint,
        E::Endpoint: 'static,
    {
        self.route = self.route.at(pattern, endpoint);
        self.class(pattern, class)
    }

    fn nest<E>(mut self, prefix: &'static str, class: RouteClass, endpoint: E) -> Self
    where
        E: IntoEndpoint,
        E::Endpoint: 'static,
    {
        self.route = self.route.nest(prefix, endpoint);
        self.classes.push(Declared {
            pattern: prefix,
            nest: true,
            class,
        });
        self
    }

    fn class(mut self, pattern: &'static str, class: RouteClass) -> Self {
        self.classes.push(Declared {
            pattern,
            nest: false,
            class,
        });
        self
    }
}

/// Every path of the site.
pub fn routes() -> Route {
    table().route
}

static CLASSES: LazyLock<Vec<Declared>> = LazyLock::new(|| table().classes);

/// The class of a request's route: looked up once, by the security headers (the
/// outermost middleware), and kept with the request for the others.
pub fn class_of_request(req: &poem::Request) -> RouteClass {
    req.extensions()
        .get::<RouteClass>()
        .copied()
        .unwrap_or_else(|| class_of(req.uri().path()))
}

/// The class of the route that answers `path`, from the same table that routes it.
pub fn class_of(path: &str) -> RouteClass {
    CLASSES
        .iter()
        .find(|declared| declared.matches(path))
        .map_or(OTHER, |declared| declared.class)
}

impl Declared {
    fn matches(&self, path: &str) -> bool {
        let mut wanted = self.pattern.trim_matches('/').split('/');
        let mut given = path.trim_matches('/').split('/');
        loop {
            match (wanted.next(), given.next()) {
                (None, None) => return true,
                (None, Some(_)) => return self.nest,
                (Some(w), _) if w.starts_with('*') => return true,
                (Some(w), Some(g)) if w.starts_with(':') && !g.is_empty() => {}
                (Some(w), Some(g)) if w == g => {}
                _ => return false,
            }
        }
    }
}

/// Wraps routes in what every request passes, outermost last: compression, CSRF,
/// cookies, rate limits, the body cap, error pages, former slugs (a page not found there
/// is sent on to the renamed article), CORS for the API (outside the error pages, so that
/// errors carry its headers too), panic catching (JSON under `/api`),
/// the request log, the
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
        .around(middleware::renamed::redirect)
        .around(middleware::cors::api)
        .with(CatchPanic::new().with_handler(middleware::errors::panic_page))
        .around(middleware::errors::api_panics_as_json)
        .around(middleware::request_log::trace)
        .around(middleware::security_headers::add)
        .data(state)
        .map_to_response()
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_get_the_class_their_route_declares() {
        let cases = [
            ("/", "home", Surface::Page),
            ("/artikelen/x", "article", Surface::Page),
            ("/artikelen/x/reacties", "reaction", Surface::Page),
            ("/artikelen/x/voorbeeld", "preview", Surface::Page),
            (
                "/artikelen/x/reacties/3/bewerken",
                "reaction",
                Surface::Page,
            ),
            ("/artikelen/x/feed.xml", "feed", Surface::Page),
            ("/beheer/moderatie", "staff", Surface::Page),
            ("/api/docs", "api", Surface::Page),
            ("/api/v1/articles", "api", Surface::Api),
            ("/api/v1/bestaat/niet", "api", Surface::Api),
            ("/static/kantlijn.css", "static", Surface::Page),
            ("/favicon.ico", "static", Surface::Page),
            ("/feed.xml", "feed", Surface::Page),
            ("/privacy", "privacy", Surface::Page),
            ("/privacy/t.x/export.json", "privacy", Surface::Page),
            ("/beheer/privacy/wissen", "staff", Surface::Page),
            ("/bestaat/niet/echt", "other", Surface::Page),
            ("/api", "other", Surface::Page),
        ];
        for (path, label, surface) in cases {
            let class = class_of(path);
            assert_eq!((class.label, class.surface), (label, surface), "{path}");
        }
    }

    #[test]
    fn posts_fall_under_their_routes_limit() {
        let post = |path: &str| class_of(path).limit(&Method::POST, false);
        assert_eq!(post("/artikelen/x/reacties"), Action::Reaction);
        assert_eq!(post("/artikelen/x/voorbeeld"), Action::Preview);
        let preview = |path: &str| class_of(path).limit(&Method::POST, true);
        assert_eq!(preview("/artikelen/x/reacties"), Action::Preview);
        assert_eq!(
            preview("/api/v1/articles/x/comments"),
            Action::Reaction,
            "only a route that offers a preview turns into one"
        );
        assert_eq!(post("/api/v1/articles/x/comments"), Action::Reaction);
        assert_eq!(post("/beheer/inloggen"), Action::Login);
        assert_eq!(post("/beheer/voorbeeld"), Action::Preview);
        assert_eq!(post("/privacy"), Action::Privacy);
        assert_eq!(post("/artikelen/x/reacties/1/nuttig"), Action::Vote);
        assert_eq!(post("/artikelen/x/nuttig"), Action::Vote);
        assert_eq!(post("/api/v1/comments/1/vote"), Action::Vote);
        let delete = class_of("/api/v1/comments/1/vote").limit(&Method::DELETE, false);
        assert_eq!(delete, Action::Vote, "taking a vote back counts too");
        assert_eq!(post("/privacy/t.x/wissen"), Action::Other);
        assert_eq!(post("/artikelen/x/reacties/1/bewerken"), Action::Other);
        assert_eq!(post("/api/v1/articles"), Action::Other);
        let get = class_of("/api/v1/articles/x/comments").limit(&Method::GET, false);
        assert_eq!(get, Action::Other);
        assert!(
            ["/privacy", "/privacy/t.x", "/privacy/t.x/export.json"]
                .iter()
                .all(|path| class_of(path).private),
            "a reader's own data stays out of caches"
        );
    }
}
