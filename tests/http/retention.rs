//! The retention job (DESIGN.md "Privacy (AVG)") with an injected clock: address hashes
//! of old reactions cleared, pending and spam reactions nobody handled removed (or, with
//! replies, kept without personal data), expired requests and unconfirmed addresses
//! gone; idempotent; its periods as settings, and the scheduler that runs it hourly.

use chrono::{DateTime, Duration, Utc};
use kantlijn::{
    domain::{retention::Retention, states::CommentStatus, validate::Role},
    entity::{comments, mail_subscribers, outbox, privacy_requests},
    jobs, mail, retention,
    retention::Report,
    store::{self, outbox::NewMail},
};
use poem::http::StatusCode;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, sea_query::Expr,
};

use crate::{
    db_test,
    helpers::{Resp, TestApp},
};

/// Moves a reaction's creation and last change `days` back, as if it had waited that long.
async fn age(app: &TestApp, id: i32, days: i64) {
    let at = Utc::now() - Duration::days(days);
    comments::Entity::update_many()
        .col_expr(comments::Column::CreatedAt, Expr::value(at))
        .col_expr(comments::Column::UpdatedAt, Expr::value(at))
        .filter(comments::Column::Id.eq(id))
        .exec(app.db.write())
        .await
        .unwrap();
}

async fn exists(app: &TestApp, id: i32) -> bool {
    store::comments::find(app.db.read(), id)
        .await
        .unwrap()
        .is_some()
}

/// A reaction by an author of its own (so the rules hold it: a first reaction waits).
async fn pending(app: &TestApp, slug: &str, who: &str) -> i32 {
    let email = format!("{}@example.nl", who.to_lowercase());
    app.comment(
        slug,
        &[
            ("author_name", who),
            ("author_email", &email),
            ("author_url", "https://example.nl/"),
            ("body", &format!("Dit schreef {who}.")),
        ],
    )
    .await
}

/// A mail about a reaction, waiting in the outbox.
async fn mail_about(app: &TestApp, comment_id: i32) {
    let mut mail = mail::messages::confirm("x@example.nl", "X", "A", "http://c", "http://u");
    mail.comment_id = Some(comment_id);
    store::outbox::queue(app.db.write(), mail, "kantlijn.test", Utc::now())
        .await
        .unwrap();
}

async fn outbox_about(app: &TestApp, comment_id: i32) -> u64 {
    outbox::Entity::find()
        .filter(outbox::Column::CommentId.eq(comment_id))
        .count(app.db.read())
        .await
        .unwrap()
}

db_test! {
    async fn old_data_goes_young_data_stays_and_threads_keep_their_shape(app) {
        let slug = app.published_article("Bewaren").await;
        let approved = app.approved_comment(&slug, &[("author_name", "Annet"), ("author_email", "annet@example.nl")]).await;
        let old_pending = pending(&app, &slug, "Bert").await;
        let old_spam = pending(&app, &slug, "Cees").await;
        app.moderate(&[old_spam], "spam", "").await;
        let young_pending = pending(&app, &slug, "Dirk").await;
        let young_spam = pending(&app, &slug, "Els").await;
        app.moderate(&[young_spam], "spam", "").await;
        // A reaction approved, answered, and only then marked spam.
        let parent = app.approved_comment(&slug, &[("author_name", "Fenna"), ("author_email", "fenna@example.nl"), ("body", "Geheime woorden van Fenna.")]).await;
        let reply = app.approved_comment(&slug, &[("author_name", "Gert"), ("author_email", "gert@example.nl"), ("body", "Een antwoord van Gert."), ("parent_id", &parent.to_string())]).await;
        app.moderate(&[parent], "spam", "").await;
        for id in [approved, old_pending, old_spam, parent] {
            age(&app, id, 40).await;
        }
        mail_about(&app, old_pending).await;
        mail_about(&app, parent).await;
        mail_about(&app, young_pending).await;
        assert!(!store::audit::for_comment(app.db.read(), old_spam).await.unwrap().is_empty());

        let report = retention::run(&app.db, Retention::default(), Utc::now()).await.unwrap();
        assert_eq!(
            report,
            Report {
                address_hashes_cleared: 4,
                reactions_removed: 2,
                reactions_anonymised: 1,
                ..Report::default()
            }
        );

        // Old address hashes are cleared, young ones kept; approved reactions stay.
        let kept = app.stored(approved).await;
        assert_eq!((kept.status, kept.ip_hash.as_str()), (CommentStatus::Approved, ""));
        assert_eq!(kept.author_name, "Annet", "only the address hash goes");
        for id in [young_pending, young_spam, reply] {
            assert!(!app.stored(id).await.ip_hash.is_empty(), "{id} is young");
        }
        // Old pending and spam reactions are gone with their log rows and mail.
        for id in [old_pending, old_spam] {
            assert!(!exists(&app, id).await, "{id} was removed");
            assert!(store::audit::for_comment(app.db.read(), id).await.unwrap().is_empty());
            assert_eq!(outbox_about(&app, id).await, 0);
        }
        assert_eq!(outbox_about(&app, young_pending).await, 1);
        assert_eq!(app.stored(young_pending).await.status, CommentStatus::Pending);
        assert_eq!(app.stored(young_spam).await.status, CommentStatus::Spam);

        // The spam parent keeps its place, without anything of its author.
        let remains = app.stored(parent).await;
        assert_eq!(remains.status, CommentStatus::Deleted);
        assert_eq!(remains.author_name, "Anoniem");
        assert_eq!(remains.author_email, "");
        assert_eq!(remains.author_url, None);
        assert_eq!(remains.ip_hash, "");
        assert_eq!(remains.edit_key_hash, None);
        assert_eq!(remains.body_md, "[reactie verwijderd]");
        assert!(remains.body_html.contains("[reactie verwijderd]"), "{}", remains.body_html);
        assert_eq!(outbox_about(&app, parent).await, 0);
        let log = store::audit::for_comment(app.db.read(), parent).await.unwrap();
        let last = log.last().unwrap();
        assert_eq!((last.actor.as_str(), last.action.as_str()), ("system", "expire"));
        assert_eq!((last.from_status, last.to_status), (Some(CommentStatus::Spam), CommentStatus::Deleted));
        let page = app.get(&format!("/artikelen/{slug}")).await;
        page.assert_status(StatusCode::OK)
            .assert_contains(&format!("id=\"reactie-{parent}\""))
            .assert_contains("[reactie verwijderd]")
            .assert_contains("Een antwoord van Gert.")
            .assert_lacks("Geheime woorden")
            .assert_lacks("Fenna");
        let parent_at = page.body.find(&format!("id=\"reactie-{parent}\"")).unwrap();
        let reply_at = page.body.find(&format!("id=\"reactie-{reply}\"")).unwrap();
        assert!(parent_at < reply_at, "the reply stays under its parent");

        // The log page names what happened, in Dutch.
        let moderator = app.other_browser();
        moderator.login_as(Role::Moderator).await;
        moderator.get("/beheer/logboek?action=expire").await.assert_contains("gewist na bewaartermijn");

        // Once more at the same moment: nothing left to do.
        let again = retention::run(&app.db, Retention::default(), Utc::now()).await.unwrap();
        assert_eq!(again, Report::default());
        assert!(again.is_empty());
    }
}

db_test! {
    async fn the_periods_run_from_posting_and_from_the_last_change(app) {
        let slug = app.published_article("Klok").await;
        let approved = app.approved_comment(&slug, &[("author_name", "Hanna"), ("author_email", "hanna@example.nl")]).await;
        let waiting = pending(&app, &slug, "Ivo").await;
        let spam = pending(&app, &slug, "Joop").await;
        app.moderate(&[spam], "spam", "").await;
        let now = Utc::now();

        let early = retention::run(&app.db, Retention::default(), now + Duration::days(29)).await.unwrap();
        assert_eq!(early, Report::default(), "nothing is 30 days old yet");
        assert!(!app.stored(approved).await.ip_hash.is_empty());

        let late = retention::run(&app.db, Retention::default(), now + Duration::days(31)).await.unwrap();
        assert_eq!((late.address_hashes_cleared, late.reactions_removed), (3, 2));
        assert!(!exists(&app, waiting).await && !exists(&app, spam).await);
        let kept = app.stored(approved).await;
        assert_eq!((kept.status, kept.ip_hash.as_str()), (CommentStatus::Approved, ""));
        assert_eq!(
            retention::run(&app.db, Retention::default(), now + Duration::days(31)).await.unwrap(),
            Report::default()
        );

        // Shorter periods apply as given; the address hash and the queue have their own.
        let fresh = pending(&app, &slug, "Kees").await;
        let short = Retention { ip_days: 7, unhandled_days: 60 };
        let report = retention::run(&app.db, short, Utc::now() + Duration::days(8)).await.unwrap();
        assert_eq!((report.address_hashes_cleared, report.reactions_removed), (1, 0));
        assert_eq!(app.stored(fresh).await.ip_hash, "");
        assert_eq!(app.stored(fresh).await.status, CommentStatus::Pending);
    }
}

db_test! {
    async fn expired_requests_unconfirmed_addresses_and_failed_mail_go(app) {
        let now = Utc::now();
        let db = app.db.write();
        for (email, expires_at) in [("weg@example.nl", now - Duration::hours(1)), ("blijft@example.nl", now + Duration::hours(23))] {
            privacy_requests::ActiveModel {
                email: Set(email.to_owned()),
                created_at: Set(expires_at - Duration::hours(24)),
                expires_at: Set(expires_at),
                ..Default::default()
            }
            .insert(db)
            .await
            .unwrap();
        }
        let subscriber = |email: &str, confirmed_at: Option<DateTime<Utc>>, sent_days_ago: i64| mail_subscribers::ActiveModel {
            email: Set(email.to_owned()),
            confirmed_at: Set(confirmed_at),
            unsubscribed_at: Set(None),
            confirmation_sent_at: Set(Some(now - Duration::days(sent_days_ago))),
            created_at: Set(now - Duration::days(sent_days_ago)),
            ..Default::default()
        };
        for row in [
            subscriber("nooit@example.nl", None, 8),
            subscriber("net@example.nl", None, 1),
            subscriber("wel@example.nl", Some(now - Duration::days(29)), 30),
        ] {
            row.insert(db).await.unwrap();
        }
        let mut ids = Vec::new();
        for days in [40, 1, 40] {
            let mail = NewMail { comment_id: None, ..mail::messages::confirm("x@example.nl", "X", "A", "http://c", "http://u") };
            ids.push(store::outbox::queue(db, mail, "kantlijn.test", now - Duration::days(days)).await.unwrap());
        }
        // The first two were given up on; the third still waits.
        outbox::Entity::update_many()
            .col_expr(outbox::Column::Status, Expr::value(store::outbox::FAILED))
            .filter(outbox::Column::Id.is_in([ids[0], ids[1]]))
            .exec(db)
            .await
            .unwrap();

        let report = retention::run(&app.db, Retention::default(), now).await.unwrap();
        assert_eq!(
            (report.privacy_requests_removed, report.subscribers_removed, report.failed_mail_removed),
            (1, 1, 1)
        );
        let requests: Vec<String> = privacy_requests::Entity::find().all(app.db.read()).await.unwrap().into_iter().map(|r| r.email).collect();
        assert_eq!(requests, ["blijft@example.nl"]);
        let mut subscribers: Vec<String> = mail_subscribers::Entity::find().all(app.db.read()).await.unwrap().into_iter().map(|r| r.email).collect();
        subscribers.sort();
        assert_eq!(subscribers, ["net@example.nl", "wel@example.nl"]);
        let mut left: Vec<i32> = outbox::Entity::find().all(app.db.read()).await.unwrap().into_iter().map(|r| r.id).collect();
        left.sort_unstable();
        assert_eq!(left, [ids[1], ids[2]]);
        assert_eq!(retention::run(&app.db, Retention::default(), now).await.unwrap(), Report::default());
    }
}

db_test! {
    async fn a_run_while_another_instance_holds_the_lock_does_nothing(app) {
        // SQLite has one writer at a time: a second run simply waits its turn.
        if app.db.backend() == DbBackend::Sqlite {
            return;
        }
        let slug = app.published_article("Twee servers").await;
        let old = pending(&app, &slug, "Nina").await;
        age(&app, old, 40).await;
        let other = app.db.begin().await.unwrap();
        assert!(store::jobs::try_lock(&other, retention::LOCK).await.unwrap());
        let report = retention::run(&app.db, Retention::default(), Utc::now()).await.unwrap();
        assert!(report.skipped && report.is_empty(), "{report:?}");
        assert!(exists(&app, old).await);
        assert!(store::jobs::last_run(app.db.read(), retention::JOB).await.unwrap().is_none());
        other.rollback().await.unwrap();
        let report = retention::run(&app.db, Retention::default(), Utc::now()).await.unwrap();
        assert_eq!((report.skipped, report.reactions_removed), (false, 1));
    }
}

async fn save_retention(admin: &TestApp, ip_days: &str, unhandled_days: &str) -> Resp {
    crate::limits::save_settings(
        admin,
        &[
            ("retention_ip_days", ip_days),
            ("retention_unhandled_days", unhandled_days),
        ],
    )
    .await
}

db_test! {
    async fn admins_set_the_periods_and_see_the_last_run(app) {
        let admin = app.other_browser();
        admin.login_as(Role::Admin).await;
        admin
            .get("/beheer/instellingen")
            .await
            .assert_status(StatusCode::OK)
            .assert_contains("Bewaartermijnen (AVG)")
            .assert_contains("id=\"retention_ip_days\" name=\"retention_ip_days\" value=\"30\"")
            .assert_contains("Nog niet uitgevoerd");

        for bad in ["0", "4000", "x"] {
            let resp = save_retention(&admin, bad, "30").await;
            resp.assert_status(StatusCode::UNPROCESSABLE_ENTITY)
                .assert_contains("Niet opgeslagen")
                .assert_contains("Geef een heel aantal dagen, van 1 tot 3650")
                .assert_contains(&format!("name=\"retention_ip_days\" value=\"{bad}\""));
            save_retention(&admin, "30", bad).await.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        }
        assert!(store::settings::recent_changes(app.db.read(), 10).await.unwrap().is_empty());

        save_retention(&admin, "7", "14").await.assert_redirect("/beheer/instellingen?opgeslagen=1");
        assert_eq!(
            store::settings::retention(app.db.read()).await.unwrap(),
            Retention { ip_days: 7, unhandled_days: 14 }
        );
        let page = admin.get("/beheer/instellingen?opgeslagen=1").await;
        page.assert_contains("value=\"7\"")
            .assert_contains("<code>retention_ip_days</code></td><td>30</td><td>7</td>")
            .assert_contains("<code>retention_unhandled_days</code></td><td>30</td><td>14</td>");
        // A form without these fields (an older page) leaves them as they are.
        let mut fields = vec![("moderation_mode", "hold_all"), ("link_threshold", "2"), ("moderation_words", ""), ("block_words", "")];
        fields.extend([("reaction_burst", "3"), ("reaction_per_minute", "2"), ("login_burst", "5"), ("login_per_minute", "1"), ("preview_burst", "20"), ("preview_per_minute", "60"), ("other_burst", "200"), ("other_per_minute", "3000"), ("privacy_burst", "3"), ("privacy_per_minute", "1"), ("search_burst", "30"), ("search_per_minute", "60")]);
        admin.post_form("/beheer/instellingen", &fields).await.assert_redirect("/beheer/instellingen?opgeslagen=1");
        assert_eq!(store::settings::retention(app.db.read()).await.unwrap().ip_days, 7);
        // Nor does a page from before the vote limit existed change that limit.
        assert_eq!(store::settings::quotas(app.db.read()).await.unwrap().get(kantlijn::domain::limits::Action::Vote), kantlijn::domain::limits::Quota::default_for(kantlijn::domain::limits::Action::Vote));

        // The scheduler runs the job with these periods, and then not again within the hour.
        let slug = app.published_article("Kort bewaard").await;
        let waiting = pending(&app, &slug, "Lotte").await;
        let start = Utc::now() + Duration::days(15);
        jobs::run_due(&app.state, start).await;
        assert!(!exists(&app, waiting).await, "14 days applied");
        let ran = store::jobs::last_run(app.db.read(), retention::JOB).await.unwrap().unwrap();
        assert_eq!(ran.last_run_at.timestamp(), start.timestamp());
        assert!(ran.report.contains("1 niet-afgehandelde reactie verwijderd"), "{}", ran.report);
        let page = admin.get("/beheer/instellingen").await;
        page.assert_contains("Laatst uitgevoerd:").assert_contains("1 niet-afgehandelde reactie verwijderd").assert_lacks("Nog niet uitgevoerd");

        let second = pending(&app, &slug, "Mark").await;
        jobs::run_due(&app.state, start + Duration::minutes(59)).await;
        assert!(exists(&app, second).await, "not due within the hour");
        let same = store::jobs::last_run(app.db.read(), retention::JOB).await.unwrap().unwrap();
        assert_eq!(same.last_run_at.timestamp(), start.timestamp());
        jobs::run_due(&app.state, start + Duration::minutes(60)).await;
        let later = store::jobs::last_run(app.db.read(), retention::JOB).await.unwrap().unwrap();
        assert_eq!(later.last_run_at.timestamp(), (start + Duration::minutes(60)).timestamp());
        // `second` was posted at the real now: 15 days before the clock, older than 14.
        assert!(!exists(&app, second).await);

        // Only admins see or change the periods.
        let moderator = app.other_browser();
        moderator.login_as(Role::Moderator).await;
        save_retention(&moderator, "1", "1").await.assert_status(StatusCode::FORBIDDEN);
    }
}
