//! Rate limits per action and client address, run-time settings and metrics.

use kantlijn::{
    config::RateLimitMode,
    domain::validate::Role,
    store::{self, settings},
};
use poem::http::{Method, StatusCode};

use crate::{
    db_test,
    helpers::{METRICS_TOKEN, PASSWORD, Resp, TEST_PEER, TestApp},
};

/// `/metrics` as Prometheus reads it, with the metrics token.
async fn scrape_metrics(app: &TestApp) -> Resp {
    let bearer = format!("Bearer {METRICS_TOKEN}");
    app.send_with(Method::GET, "/metrics", None, &[("authorization", &bearer)])
        .await
}

/// Posts a reaction as if from `peer`, optionally through a proxy header.
async fn post_from(
    app: &TestApp,
    slug: &str,
    peer: &str,
    forwarded: Option<&str>,
    body: &str,
) -> Resp {
    let token = app.csrf_token().await;
    let form_token = app.form_token(10);
    let fields = [
        ("author_name", "Snelle Lezer"),
        ("author_email", "snel@example.nl"),
        ("body", body),
        ("form_token", form_token.as_str()),
        ("csrf_token", token.as_str()),
    ];
    let mut headers = vec![(TEST_PEER, peer)];
    if let Some(forwarded) = forwarded {
        headers.push(("x-forwarded-for", forwarded));
    }
    app.send_with(
        Method::POST,
        &format!("/artikelen/{slug}/reacties"),
        Some(serde_html_form::to_string(fields).unwrap()),
        &headers,
    )
    .await
}

#[track_caller]
fn assert_limited(resp: &Resp) -> u64 {
    resp.assert_status(StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = resp
        .header("retry-after")
        .parse()
        .expect("a numeric Retry-After");
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    retry
}

db_test! {
    async fn a_burst_of_three_reactions_then_429_with_the_text_kept(app) {
        let slug = app.published_article("Te snel").await;
        let limited = app.with_rate_limits(RateLimitMode::On).await;
        for n in 1..=3 {
            post_from(&limited, &slug, "203.0.113.5", None, &format!("Reactie {n}")).await.assert_status(StatusCode::SEE_OTHER);
        }
        let resp = post_from(&limited, &slug, "203.0.113.5", None, "Mijn zorgvuldige vierde reactie").await;
        let retry = assert_limited(&resp);
        resp.assert_contains(&format!("Je plaatst te snel reacties. Probeer het over {retry} seconden opnieuw."))
            .assert_contains("Mijn zorgvuldige vierde reactie")
            .assert_contains("value=\"snel@example.nl\"");
        assert_eq!(store::comments::count(app.db.read()).await.unwrap(), 3, "the fourth was not stored");
        post_from(&limited, &slug, "203.0.113.6", None, "Van een ander adres").await.assert_status(StatusCode::SEE_OTHER);
    }
}

db_test! {
    async fn api_over_quota_answers_429_json(app) {
        let limited = app.with_rate_limits(RateLimitMode::On).await;
        let mut last = None;
        for _ in 0..4 {
            last = Some(
                limited
                    .send_with(Method::POST, "/api/v1/articles/iets/comments", Some("{}".into()), &[(TEST_PEER, "203.0.113.7"), ("content-type", "application/json")])
                    .await,
            );
        }
        let resp = last.unwrap();
        assert_limited(&resp);
        assert!(resp.header("content-type").starts_with("application/json"));
        let json: serde_json::Value = serde_json::from_str(&resp.body).unwrap();
        assert_eq!(json["error"], "rate_limited");
        assert!(json["message"].is_string());
    }
}

db_test! {
    async fn spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(app) {
        let slug = app.published_article("Vervalst").await;
        let limited = app.with_rate_limits(RateLimitMode::On).await;
        let mut ids = Vec::new();
        for n in 1..=3 {
            let spoof = format!("198.51.100.{n}");
            let resp = post_from(&limited, &slug, "203.0.113.9", Some(&spoof), "hoi").await;
            resp.assert_status(StatusCode::SEE_OTHER);
            ids.push(crate::helpers::comment_id(resp.location()));
        }
        let resp = post_from(&limited, &slug, "203.0.113.9", Some("198.51.100.99"), "hoi").await;
        assert_limited(&resp);
        let peer = limited.state.keys.ip_hash("203.0.113.9");
        let stored = store::comments::find_many(app.db.read(), &ids).await.unwrap();
        let hashes: Vec<&str> = stored.iter().map(|c| c.ip_hash.as_str()).collect();
        assert_eq!(hashes, [peer.as_str(); 3], "the peer address is hashed, not the claimed one");
    }
}

db_test! {
    async fn clients_of_a_trusted_proxy_get_buckets_of_their_own(app) {
        let slug = app.published_article("Achter de proxy").await;
        let limited = app.with_rate_limits(RateLimitMode::On).await;
        for _ in 0..3 {
            post_from(&limited, &slug, "127.0.0.1", Some("198.51.100.1"), "hoi").await.assert_status(StatusCode::SEE_OTHER);
        }
        assert_limited(&post_from(&limited, &slug, "127.0.0.1", Some("198.51.100.1"), "hoi").await);
        // A client that prepends a fake address is still keyed by what the proxy saw.
        assert_limited(&post_from(&limited, &slug, "127.0.0.1", Some("6.6.6.6, 198.51.100.1"), "hoi").await);
        post_from(&limited, &slug, "127.0.0.1", Some("198.51.100.2"), "hoi").await.assert_status(StatusCode::SEE_OTHER);
        post_from(&limited, &slug, "10.1.2.3", Some("198.51.100.3, 10.9.9.9"), "hoi").await.assert_status(StatusCode::SEE_OTHER);
    }
}

db_test! {
    async fn two_addresses_in_one_ipv6_64_share_a_bucket(app) {
        let slug = app.published_article("IPv6").await;
        let limited = app.with_rate_limits(RateLimitMode::On).await;
        for peer in ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"] {
            post_from(&limited, &slug, peer, None, "hoi").await.assert_status(StatusCode::SEE_OTHER);
        }
        assert_limited(&post_from(&limited, &slug, "2001:db8:1:2::4", None, "hoi").await);
        post_from(&limited, &slug, "2001:db8:1:3::1", None, "hoi").await.assert_status(StatusCode::SEE_OTHER);
    }
}

/// The value of `kantlijn_rate_limits_shared` in a scrape.
fn shared_gauge(scrape: &prometheus_parse::Scrape) -> Option<f64> {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == "kantlijn_rate_limits_shared")
        .map(|s| match s.value {
            prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => v,
            _ => f64::NAN,
        })
}

async fn scrape_shared_gauge(app: &TestApp) -> Option<f64> {
    let resp = scrape_metrics(app).await;
    resp.assert_status(StatusCode::OK);
    let lines = resp.body.lines().map(|l| Ok(l.to_owned()));
    shared_gauge(&prometheus_parse::Scrape::parse(lines).expect("valid Prometheus text"))
}

db_test! {
    async fn two_instances_share_the_reaction_limit_through_redis(app) {
        if crate::helpers::test_redis().is_none() {
            eprintln!("skipped: KANTLIJN_TEST_REDIS_URL is unset");
            return;
        }
        let slug = app.published_article("Gedeeld").await;
        let first = app.with_rate_limits(RateLimitMode::On).await;
        let second = first.with_settings((*first.state.settings).clone()).await;
        for (n, instance) in [&first, &second, &first].into_iter().enumerate() {
            post_from(instance, &slug, "203.0.113.70", None, &format!("Reactie {n}")).await.assert_status(StatusCode::SEE_OTHER);
        }
        let resp = post_from(&second, &slug, "203.0.113.70", None, "De vierde, op de tweede").await;
        let retry = assert_limited(&resp);
        resp.assert_contains(&format!("Probeer het over {retry} seconden opnieuw."))
            .assert_contains("De vierde, op de tweede");
        assert_limited(&post_from(&first, &slug, "203.0.113.70", None, "hoi").await);
        assert_eq!(store::comments::count(app.db.read()).await.unwrap(), 3);
        assert_eq!(scrape_shared_gauge(&first).await, Some(1.0));
        assert_eq!(scrape_shared_gauge(&second).await, Some(1.0));
    }
}

db_test! {
    async fn an_unreachable_redis_fails_no_request_and_each_instance_limits_alone(app) {
        let slug = app.published_article("Zonder Redis").await;
        let mut settings = (*app.state.settings).clone();
        settings.rate_limits = RateLimitMode::On;
        settings.redis = Some(kantlijn::config::RedisSettings::parse("redis://127.0.0.1:1").unwrap());
        let limited = app.with_settings(settings).await;
        let started = std::time::Instant::now();
        for n in 1..=3 {
            post_from(&limited, &slug, "203.0.113.80", None, &format!("Reactie {n}")).await.assert_status(StatusCode::SEE_OTHER);
        }
        assert_limited(&post_from(&limited, &slug, "203.0.113.80", None, "hoi").await);
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "took {:?}", started.elapsed());
        assert_eq!(scrape_shared_gauge(&limited).await, Some(0.0));
    }
}

async fn login_from(app: &TestApp, peer: &str, username: &str, password: &str) -> Resp {
    let token = app.csrf_token().await;
    let fields = [
        ("username", username),
        ("password", password),
        ("csrf_token", token.as_str()),
    ];
    app.send_with(
        Method::POST,
        "/beheer/inloggen",
        Some(serde_html_form::to_string(fields).unwrap()),
        &[(TEST_PEER, peer)],
    )
    .await
}

db_test! {
    async fn login_is_limited_per_address_and_per_username(app) {
        app.create_user("anna", Role::Editor).await;
        let limited = app.with_rate_limits(RateLimitMode::On).await;
        for _ in 0..5 {
            login_from(&limited, "203.0.113.20", "onbekend", "fout").await.assert_status(StatusCode::UNAUTHORIZED);
        }
        let resp = login_from(&limited, "203.0.113.20", "anna", PASSWORD).await;
        let retry = assert_limited(&resp);
        assert!(retry <= 60);
        resp.assert_contains("Te veel inlogpogingen").assert_contains("value=\"anna\"");
        assert_eq!(limited.cookie("kantlijn_sessie"), None, "even the right password waits");

        // Guessing one account's password from many addresses hits the per-name limit.
        for n in 1..=5 {
            login_from(&limited, &format!("198.51.100.{n}"), "anna", "geraden?").await.assert_status(StatusCode::UNAUTHORIZED);
        }
        assert_limited(&login_from(&limited, "198.51.100.50", "ANNA", PASSWORD).await);
        login_from(&limited, "198.51.100.51", "bert", "x").await.assert_status(StatusCode::UNAUTHORIZED);
    }
}

db_test! {
    async fn rate_limits_off_keeps_only_the_login_limit(app) {
        let slug = app.published_article("Uit").await;
        let off = app.with_rate_limits(RateLimitMode::Off).await;
        for _ in 0..6 {
            post_from(&off, &slug, "203.0.113.30", None, "hoi").await.assert_status(StatusCode::SEE_OTHER);
        }
        for _ in 0..5 {
            login_from(&off, "203.0.113.30", "x", "y").await.assert_status(StatusCode::UNAUTHORIZED);
        }
        assert_limited(&login_from(&off, "203.0.113.30", "x", "y").await);
    }
}

db_test! {
    async fn server_errors_do_not_use_up_quota(app) {
        app.set_setting(&settings::quota_key(kantlijn::domain::limits::Action::Other), "2,1").await;
        let limited = app.with_rate_limits(RateLimitMode::On).await;
        let peer = [(TEST_PEER, "203.0.113.40")];
        app.db.close().await.unwrap();
        for _ in 0..5 {
            limited.send_with(Method::GET, "/healthz", None, &peer).await.assert_status(StatusCode::SERVICE_UNAVAILABLE);
        }
        for _ in 0..2 {
            limited.send_with(Method::GET, "/static/kantlijn.css", None, &peer).await.assert_status(StatusCode::OK);
        }
        let resp = limited.send_with(Method::GET, "/static/kantlijn.css", None, &peer).await;
        assert_limited_any(&resp);
        resp.assert_contains("Probeer het over");
    }
}

#[track_caller]
fn assert_limited_any(resp: &Resp) {
    resp.assert_status(StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.header("retry-after").parse::<u64>().unwrap() >= 1);
}

pub async fn save_settings(admin: &TestApp, overrides: &[(&str, &str)]) -> Resp {
    let mut fields: Vec<(&str, &str)> = vec![
        ("moderation_mode", "hold_first"),
        ("link_threshold", "2"),
        ("moderation_words", ""),
        ("block_words", ""),
        ("reaction_burst", "3"),
        ("reaction_per_minute", "2"),
        ("login_burst", "5"),
        ("login_per_minute", "1"),
        ("preview_burst", "20"),
        ("preview_per_minute", "60"),
        ("privacy_burst", "3"),
        ("privacy_per_minute", "1"),
        ("search_burst", "30"),
        ("search_per_minute", "60"),
        ("vote_burst", "20"),
        ("vote_per_minute", "60"),
        ("other_burst", "200"),
        ("other_per_minute", "3000"),
    ];
    fields.retain(|(k, _)| !overrides.iter().any(|(o, _)| o == k));
    fields.extend_from_slice(overrides);
    admin.post_form("/beheer/instellingen", &fields).await
}

db_test! {
    async fn settings_changed_at_run_time_apply_to_the_next_request(app) {
        let slug = app.published_article("Instellingen").await;
        let limited = app.with_rate_limits(RateLimitMode::On).await;
        let admin = limited.other_browser();
        admin.login_as(Role::Admin).await;
        admin.get("/beheer/instellingen").await.assert_status(StatusCode::OK).assert_contains("value=\"hold_first\" checked");
        save_settings(&admin, &[("reaction_burst", "5"), ("moderation_mode", "publish_all"), ("block_words", "casino\n\nloterij")])
            .await
            .assert_redirect("/beheer/instellingen?opgeslagen=1");
        for _ in 0..5 {
            post_from(&limited, &slug, "203.0.113.50", None, "hoi").await.assert_status(StatusCode::SEE_OTHER);
        }
        assert_limited(&post_from(&limited, &slug, "203.0.113.50", None, "hoi").await);
        let published = store::comments::find_many(app.db.read(), &[1]).await.unwrap();
        assert_eq!(published[0].status.as_str(), "approved", "publish_all applies at once");
        let spam = post_from(&limited, &slug, "203.0.113.51", None, "Naar het casino!").await;
        let id = crate::helpers::comment_id(spam.location());
        assert_eq!(app.stored(id).await.status.as_str(), "spam");

        let page = admin.get("/beheer/instellingen?opgeslagen=1").await;
        page.assert_contains("Opgeslagen.")
            .assert_contains("admin-test")
            .assert_contains("quota_reaction")
            .assert_contains("moderation_mode")
            .assert_contains("casino\nloterij");
        let changes = settings::recent_changes(app.db.read(), 50).await.unwrap();
        assert_eq!(changes.len(), 3, "only changed values are logged");
    }
}

db_test! {
    async fn invalid_settings_rerender_with_dutch_errors(app) {
        app.login_as(Role::Admin).await;
        let resp = save_settings(&app, &[("link_threshold", "veel"), ("preview_burst", "0"), ("moderation_mode", "chaos"), ("block_words", "bewaard woord")]).await;
        resp.assert_status(StatusCode::UNPROCESSABLE_ENTITY)
            .assert_contains("Niet opgeslagen")
            .assert_contains("Geef een heel getal van 0 tot 100")
            .assert_contains("Geef hele getallen")
            .assert_contains("Kies een van de drie manieren")
            .assert_contains("value=\"veel\"")
            .assert_contains("bewaard woord");
        assert!(settings::recent_changes(app.db.read(), 10).await.unwrap().is_empty());
    }
}

db_test! {
    async fn only_admins_change_settings(app) {
        for role in [Role::Editor, Role::Moderator] {
            let browser = app.other_browser();
            browser.login_as(role).await;
            browser.get("/beheer/instellingen").await.assert_status(StatusCode::FORBIDDEN);
            save_settings(&browser, &[("moderation_mode", "publish_all")]).await.assert_status(StatusCode::FORBIDDEN);
        }
        app.get("/beheer/instellingen").await.assert_status(StatusCode::SEE_OTHER);
        assert_eq!(settings::get(app.db.read(), settings::MODERATION_MODE).await.unwrap(), None);
    }
}

db_test! {
    async fn metrics_parse_as_prometheus_text(app) {
        let slug = app.published_article("Meten").await;
        let id = app.comment(&slug, &[]).await;
        app.moderate(&[id], "approve", "").await;
        let limited = app.with_rate_limits(RateLimitMode::On).await;
        for _ in 0..4 {
            post_from(&limited, &slug, "203.0.113.60", None, "hoi").await;
        }
        let resp = scrape_metrics(&limited).await;
        resp.assert_status(StatusCode::OK);
        assert!(resp.header("content-type").starts_with("text/plain"));
        let lines = resp.body.lines().map(|l| Ok(l.to_owned()));
        let scrape = prometheus_parse::Scrape::parse(lines).expect("valid Prometheus text");
        let value = |name: &str, label: (&str, &str)| -> f64 {
            scrape
                .samples
                .iter()
                .filter(|s| s.metric == name && s.labels.get(label.0) == Some(label.1))
                .map(|s| match s.value {
                    prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => v,
                    _ => 0.0,
                })
                .sum()
        };
        assert_eq!(value("kantlijn_rate_limited_total", ("action", "reaction")), 1.0);
        assert_eq!(value("kantlijn_reactions_posted_total", ("status", "pending")), 3.0);
        assert_eq!(value("kantlijn_http_requests_total", ("status", "429")), 1.0);
        assert!(value("kantlijn_db_pool_connections", ("state", "open")) >= 1.0);
        let shared = if crate::helpers::test_redis().is_some() { 1.0 } else { 0.0 };
        assert_eq!(shared_gauge(&scrape), Some(shared), "kantlijn_rate_limits_shared");
        // The first app's own metrics saw the moderator's approval.
        let own = scrape_metrics(&app).await;
        assert!(own.body.contains("kantlijn_moderation_actions_total{action=\"approve\"} 1"), "{}", own.body);
    }
}

db_test! {
    /// The counters tell what the answers keep quiet (how many reactions were taken for
    /// spam): only the scraper with the metrics token reads them.
    async fn metrics_answer_only_the_metrics_token(app) {
        for headers in [vec![], vec![("authorization", "Bearer verkeerd")], vec![("authorization", METRICS_TOKEN)]] {
            let resp = app.send_with(Method::GET, "/metrics", None, &headers).await;
            resp.assert_status(StatusCode::UNAUTHORIZED)
                .assert_contains("KANTLIJN_METRICS_TOKEN")
                .assert_lacks("kantlijn_db_pool_connections");
            assert_eq!(resp.header("www-authenticate"), "Bearer realm=\"metrics\"");
        }
        scrape_metrics(&app).await.assert_status(StatusCode::OK).assert_contains("kantlijn_db_pool_connections");

        // A site started without a metrics token shows them to nobody.
        let mut settings = (*app.state.settings).clone();
        settings.metrics_token = None;
        let closed = app.with_settings(settings).await;
        scrape_metrics(&closed).await.assert_status(StatusCode::UNAUTHORIZED);
    }
}
