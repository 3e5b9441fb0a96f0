//! What every request passes through, outermost first: security headers, the request
//! log, panic catching, CORS, former slugs, error pages, the body cap, cookies, CSRF and compression.

pub mod body_limit;
pub mod client_ip;
pub mod compress;
pub mod cors;
pub mod csrf;
pub mod errors;
pub mod rate_limit;
pub mod renamed;
pub mod request_log;
pub mod security_headers;
