//! Readers post reactions and replies; the rules and the poster's own view.

use chrono::{Duration, Utc};
use kantlijn::{
    domain::validate::Role,
    entity::comments,
    store::{self, audit},
};
use poem::http::StatusCode;
use scraper::{Html, Selector};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};

use crate::{db_test, helpers::TestApp};

fn select(html: &str, css: &str) -> usize {
    Html::parse_document(html)
        .select(&Selector::parse(css).unwrap())
        .count()
}

async fn status(app: &TestApp, id: i32) -> String {
    app.stored(id).await.status.as_str().to_owned()
}

async fn system_rule(app: &TestApp, id: i32) -> String {
    let rows = audit::for_comment(app.db.read(), id).await.unwrap();
    let row = rows
        .iter()
        .rev()
        .find(|r| r.actor == audit::SYSTEM)
        .expect("an automatic decision is logged");
    row.reason.clone().unwrap_or_default()
}

db_test! {
    async fn pending_reaction_is_hidden_from_the_public(app) {
        let slug = app.published_article("Over het register").await;
        let resp = app.post_comment(&slug, &[("body", "Mijn eerste reactie hier.")]).await;
        resp.assert_status(StatusCode::SEE_OTHER);
        let id = crate::helpers::comment_id(resp.location());
        assert_eq!(resp.location(), format!("/artikelen/{slug}?reactie={id}#reactie-{id}"));
        assert_eq!(status(&app, id).await, "pending");

        let stranger = app.other_browser();
        stranger
            .get(&format!("/artikelen/{slug}"))
            .await
            .assert_lacks("Mijn eerste reactie hier.")
            .assert_lacks(&format!("id=\"reactie-{id}\""))
            .assert_contains("Nog geen reacties");
    }
}

db_test! {
    async fn poster_sees_own_pending_reaction_with_a_notice(app) {
        let slug = app.published_article("Over het register").await;
        let id = app.comment(&slug, &[("body", "Wacht nog even.")]).await;
        app.get(&format!("/artikelen/{slug}?reactie={id}"))
            .await
            .assert_status(StatusCode::OK)
            .assert_contains(&format!("id=\"reactie-{id}\""))
            .assert_contains("Wacht nog even.")
            .assert_contains("Je reactie wacht op moderatie");
    }
}

db_test! {
    async fn approved_reaction_is_shown_and_counted(app) {
        let slug = app.published_article("Tel mee").await;
        let id = app.approved_comment(&slug, &[("body", "Nu zichtbaar.")]).await;
        let stranger = app.other_browser();
        let page = stranger.get(&format!("/artikelen/{slug}")).await;
        page.assert_contains("Nu zichtbaar.").assert_contains("1 reactie").assert_lacks("wacht op moderatie");
        assert_eq!(select(&page.body, &format!("li#reactie-{id}.reaction time[datetime]")), 1);
        stranger.get("/").await.assert_contains("1 reactie");
        app.approved_comment(&slug, &[("body", "Nog een.")]).await;
        stranger.get("/").await.assert_contains("2 reacties");
    }
}

db_test! {
    async fn reply_nests_inside_its_parent(app) {
        let slug = app.published_article("Draadjes").await;
        let parent = app.approved_comment(&slug, &[]).await;
        let reply = app.approved_comment(&slug, &[("parent_id", &parent.to_string()), ("body", "Een antwoord.")]).await;
        assert_eq!(app.stored(reply).await.parent_id, Some(parent));
        let page = app.other_browser().get(&format!("/artikelen/{slug}")).await;
        let nested = format!("li#reactie-{parent} > ol.thread > li#reactie-{reply}.depth-2");
        assert_eq!(select(&page.body, &nested), 1, "{}", page.body);
    }
}

db_test! {
    async fn reply_link_without_javascript_opens_the_form_for_that_reaction(app) {
        let slug = app.published_article("Antwoorden").await;
        let parent = app.approved_comment(&slug, &[("author_name", "Karel Appel")]).await;
        let page = app.other_browser().get(&format!("/artikelen/{slug}?antwoord={parent}")).await;
        page.assert_contains("Je reageert op Karel Appel");
        assert_eq!(crate::helpers::hidden_value(&page.body, "parent_id"), Some(parent.to_string()));
    }
}

db_test! {
    async fn reply_to_a_pending_or_foreign_or_missing_reaction_is_422(app) {
        let slug = app.published_article("Eerste").await;
        let other = app.published_article("Tweede").await;
        let pending = app.comment(&slug, &[]).await;
        let foreign = app.approved_comment(&other, &[]).await;
        let not_published = "Je kunt alleen reageren op een geplaatste reactie bij dit artikel.";
        let unreadable = "Deze reactie bestaat niet (meer); reageer op een andere of plaats een nieuwe.";
        for (what, parent, message) in [
            ("pending", pending.to_string(), not_published),
            ("foreign", foreign.to_string(), not_published),
            ("missing", "99999".to_owned(), not_published),
            ("garbage", "abc".to_owned(), unreadable),
        ] {
            let resp = app.post_comment(&slug, &[("parent_id", &parent), ("body", "Mijn antwoord blijft staan.")]).await;
            resp.assert_status(StatusCode::UNPROCESSABLE_ENTITY)
                .assert_contains("Mijn antwoord blijft staan.");
            assert!(resp.body.contains(message), "{what}: {message:?} in {}", resp.body);
        }
        assert_eq!(store::comments::count(app.db.read()).await.unwrap(), 2, "nothing more was stored");
    }
}

db_test! {
    async fn invalid_reaction_shows_every_error_in_dutch_and_keeps_the_input(app) {
        let slug = app.published_article("Fouten").await;
        let resp = app
            .post_comment(&slug, &[
                ("author_name", ""),
                ("author_email", "geen-adres"),
                ("author_url", "javascript:alert(1)"),
                ("body", ""),
            ])
            .await;
        resp.assert_status(StatusCode::UNPROCESSABLE_ENTITY)
            .assert_contains("Vul je naam in")
            .assert_contains("Vul een geldig e-mailadres in")
            .assert_contains("begint met http:// of https://")
            .assert_contains("Schrijf eerst je reactie.")
            .assert_contains("value=\"geen-adres\"")
            .assert_contains("value=\"javascript:alert(1)\"");
        let long = "x".repeat(5001);
        app.post_comment(&slug, &[("body", &long)])
            .await
            .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
            .assert_contains("hoogstens 5000 tekens")
            .assert_contains(&long);
        assert_eq!(store::comments::count(app.db.read()).await.unwrap(), 0);
    }
}

db_test! {
    async fn returning_approved_author_is_approved_directly(app) {
        let slug = app.published_article("Vaste lezer").await;
        let first = app.comment(&slug, &[]).await;
        assert_eq!(system_rule(&app, first).await, "first_reaction");
        app.moderate(&[first], "approve", "").await;
        let second = app.comment(&slug, &[("body", "Ik weer.")]).await;
        assert_eq!(status(&app, second).await, "approved");
        assert_eq!(system_rule(&app, second).await, "known_author");
        // The same e-mail under another name is not trusted (an e-mail alone is too easy to borrow).
        let borrowed = app.comment(&slug, &[("author_name", "Iemand Anders")]).await;
        assert_eq!(status(&app, borrowed).await, "pending");
    }
}

db_test! {
    async fn two_links_hold_even_a_known_author(app) {
        let slug = app.published_article("Links").await;
        app.approved_comment(&slug, &[]).await;
        let one = app.comment(&slug, &[("body", "Zie https://example.nl/a")]).await;
        assert_eq!(status(&app, one).await, "approved");
        let two = app.comment(&slug, &[("body", "[a](https://example.nl/a) en https://example.nl/b")]).await;
        assert_eq!(status(&app, two).await, "pending");
        assert_eq!(system_rule(&app, two).await, "links");
    }
}

db_test! {
    async fn moderation_and_block_words_from_the_settings(app) {
        app.set_setting(store::settings::MODERATION_WORDS, "loterij\ngratis geld").await;
        app.set_setting(store::settings::BLOCK_WORDS, "viagra").await;
        let slug = app.published_article("Woorden").await;
        app.approved_comment(&slug, &[]).await;
        let held = app.comment(&slug, &[("body", "Win de LOTERIJ!")]).await;
        assert_eq!((status(&app, held).await, system_rule(&app, held).await), ("pending".into(), "moderation_word".into()));
        let blocked = app.comment(&slug, &[("body", "Koop viagra hier")]).await;
        assert_eq!((status(&app, blocked).await, system_rule(&app, blocked).await), ("spam".into(), "block_word".into()));
        // The poster of spam sees the same answer as any pending reaction.
        app.get(&format!("/artikelen/{slug}?reactie={blocked}"))
            .await
            .assert_contains("Koop viagra hier")
            .assert_contains("Je reactie wacht op moderatie");
        app.other_browser().get(&format!("/artikelen/{slug}")).await.assert_lacks("Koop viagra hier");
    }
}

db_test! {
    async fn honeypot_sends_to_spam_with_the_normal_answer(app) {
        let slug = app.published_article("Honingpot").await;
        let resp = app.post_comment(&slug, &[("bijzonderheden", "https://spam.example"), ("body", "Bot-tekst")]).await;
        resp.assert_status(StatusCode::SEE_OTHER);
        let id = crate::helpers::comment_id(resp.location());
        assert_eq!((status(&app, id).await, system_rule(&app, id).await), ("spam".into(), "honeypot".into()));
        app.get(resp.location()).await.assert_contains("Je reactie wacht op moderatie");
    }
}

db_test! {
    async fn form_sent_back_within_two_seconds_or_without_token_is_spam(app) {
        let slug = app.published_article("Snel").await;
        app.approved_comment(&slug, &[]).await;
        // Wide margins around the 2 seconds, so a slow machine cannot turn either case:
        // sent back at once, or after a minute.
        let fast = app.form_token(0);
        let forged = app.form_token(60).replace('.', "x");
        for (what, token) in [("fast", fast.as_str()), ("forged", forged.as_str()), ("missing", "")] {
            let id = app.comment(&slug, &[("form_token", token)]).await;
            assert_eq!((status(&app, id).await, system_rule(&app, id).await), ("spam".into(), "too_fast".into()), "{what}");
        }
        let slow = app.form_token(60);
        let id = app.comment(&slug, &[("form_token", &slow)]).await;
        assert_eq!(status(&app, id).await, "approved", "a known author after a minute");
    }
}

db_test! {
    async fn the_form_carries_a_fresh_signed_token(app) {
        let slug = app.published_article("Token").await;
        let page = app.get(&format!("/artikelen/{slug}")).await;
        page.assert_contains("Laat een reactie achter");
        let token = crate::helpers::hidden_value(&page.body, "form_token").unwrap();
        assert!(app.state.keys.verify(&token).is_some());
        // Sent back at once, as a bot would: spam.
        let id = app.comment(&slug, &[("form_token", &token)]).await;
        assert_eq!(status(&app, id).await, "spam");
    }
}

db_test! {
    async fn a_form_shown_again_keeps_its_first_served_time(app) {
        let slug = app.published_article("Opnieuw").await;
        let served = app.form_token(30);
        let resp = app.post_comment(&slug, &[("form_token", &served), ("author_email", "fout")]).await;
        resp.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        let again = crate::helpers::hidden_value(&resp.body, "form_token").unwrap();
        assert_eq!(again, served, "fixing a field at once is not sent back 'too fast'");
        let id = app.comment(&slug, &[("form_token", &again)]).await;
        assert_eq!(status(&app, id).await, "pending");
    }
}

db_test! {
    async fn hold_all_and_publish_all_modes(app) {
        let slug = app.published_article("Modi").await;
        app.approved_comment(&slug, &[]).await;
        app.set_setting(store::settings::MODERATION_MODE, "hold_all").await;
        let held = app.comment(&slug, &[]).await;
        assert_eq!((status(&app, held).await, system_rule(&app, held).await), ("pending".into(), "hold_all".into()));
        app.set_setting(store::settings::MODERATION_MODE, "publish_all").await;
        let stranger = app.other_browser();
        let id = stranger.comment(&slug, &[("author_name", "Nieuw"), ("author_email", "nieuw@example.nl")]).await;
        assert_eq!((status(&app, id).await, system_rule(&app, id).await), ("approved".into(), "publish_all".into()));
    }
}

db_test! {
    async fn staff_reactions_are_approved_and_marked(app) {
        let slug = app.published_article("Redactie").await;
        let staff_id = app.login_as(Role::Editor).await;
        let id = app.comment(&slug, &[("author_name", "De redactie"), ("form_token", "")]).await;
        let stored = app.stored(id).await;
        assert_eq!((stored.status.as_str(), stored.user_id), ("approved", Some(staff_id)));
        assert_eq!(system_rule(&app, id).await, "staff");
        let page = app.other_browser().get(&format!("/artikelen/{slug}")).await;
        assert_eq!(select(&page.body, &format!("li#reactie-{id} .badge.staff")), 1);
        page.assert_contains(">redactie<");
    }
}

db_test! {
    async fn banned_email_or_address_is_refused_with_the_text_kept(app) {
        let slug = app.published_article("Ban").await;
        let id = app.comment(&slug, &[("author_email", "trol@example.nl")]).await;
        let moderator = app.other_browser();
        moderator.login_as(Role::Moderator).await;
        moderator
            .post_form("/beheer/moderatie/blokkeren", &[("comment_id", &id.to_string()), ("kind", "email"), ("days", ""), ("reason", "scheldt")])
            .await
            .assert_status(StatusCode::SEE_OTHER);
        let resp = app.post_comment(&slug, &[("author_email", "TROL@example.nl"), ("body", "Ik ben er weer.")]).await;
        resp.assert_status(StatusCode::FORBIDDEN)
            .assert_contains("kun je hier geen reacties meer plaatsen")
            .assert_contains("Ik ben er weer.");
        assert_eq!(store::comments::count(app.db.read()).await.unwrap(), 1, "nothing stored");

        let other = app.other_browser();
        let second = other.comment(&slug, &[("author_email", "ander@example.nl")]).await;
        moderator
            .post_form("/beheer/moderatie/blokkeren", &[("comment_id", &second.to_string()), ("kind", "ip_hash"), ("days", "7"), ("reason", "")])
            .await
            .assert_status(StatusCode::SEE_OTHER);
        other
            .post_comment(&slug, &[("author_email", "nog-een@example.nl")])
            .await
            .assert_status(StatusCode::FORBIDDEN);
        let log = audit::for_comment(app.db.read(), second).await.unwrap();
        assert!(log.iter().any(|r| r.action.as_str() == "ban_ip_hash"));
    }
}

db_test! {
    async fn expired_ban_no_longer_applies(app) {
        let slug = app.published_article("Verlopen").await;
        let moderator_id = app.other_browser().login_as(Role::Moderator).await;
        store::bans::insert(app.db.write(), store::bans::Kind::Email, "oud@example.nl", None, Some(Utc::now() - Duration::hours(1)), moderator_id)
            .await
            .unwrap();
        app.post_comment(&slug, &[("author_email", "oud@example.nl")]).await.assert_status(StatusCode::SEE_OTHER);
    }
}

db_test! {
    async fn address_is_stored_only_as_an_hmac(app) {
        let slug = app.published_article("Privacy").await;
        let id = app.comment(&slug, &[]).await;
        let stored = app.stored(id).await;
        assert_eq!(stored.ip_hash.len(), 64);
        assert!(stored.ip_hash.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(stored.ip_hash, app.state.keys.ip_hash("192.0.2.1"), "HMAC of the peer address");
        assert!(!stored.ip_hash.contains("192.0.2.1"));
    }
}

db_test! {
    async fn names_urls_and_emails_are_safe_on_the_page(app) {
        let slug = app.published_article("Veilig").await;
        let id = app
            .approved_comment(&slug, &[
                ("author_name", "<script>alert(1)</script>"),
                ("author_email", "geheim@example.nl"),
                ("author_url", "https://example.nl/ik"),
                ("body", "<b>vet?</b> [link](https://example.nl)"),
            ])
            .await;
        let page = app.other_browser().get(&format!("/artikelen/{slug}")).await;
        page.assert_contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            .assert_lacks("<script>alert(1)")
            .assert_lacks("geheim@example.nl")
            .assert_contains("&lt;b&gt;vet?&lt;/b&gt;")
            .assert_contains(r#"<a href="https://example.nl" rel="nofollow ugc noopener noreferrer">link</a>"#)
            .assert_contains(r#"href="https://example.nl/ik" rel="nofollow ugc""#);
        assert_eq!(select(&page.body, &format!("li#reactie-{id} a.author[rel=\"nofollow ugc\"]")), 1);
    }
}

db_test! {
    async fn deep_replies_stay_at_depth_five_with_a_marker(app) {
        let slug = app.published_article("Diep").await;
        let mut parent: Option<i32> = None;
        let mut ids = Vec::new();
        for level in 1..=7 {
            let name = format!("Schrijver {level}");
            let parent_text = parent.map(|p| p.to_string()).unwrap_or_default();
            let id = app.approved_comment(&slug, &[("author_name", &name), ("parent_id", &parent_text)]).await;
            ids.push(id);
            parent = Some(id);
        }
        let page = app.other_browser().get(&format!("/artikelen/{slug}")).await;
        assert_eq!(select(&page.body, "li.reaction.depth-5"), 3);
        assert_eq!(select(&page.body, "li.reaction.depth-6"), 0);
        page.assert_contains("reactie op Schrijver 5").assert_contains("reactie op Schrijver 6");
        assert_eq!(select(&page.body, "li.reaction"), 7, "no reply is lost");
    }
}

db_test! {
    async fn deleting_a_reaction_with_approved_replies_leaves_a_tombstone(app) {
        let slug = app.published_article("Grafsteen").await;
        let parent = app.approved_comment(&slug, &[("body", "Ouder-tekst")]).await;
        let reply = app.approved_comment(&slug, &[("parent_id", &parent.to_string()), ("body", "Kind-tekst")]).await;
        let lonely = app.approved_comment(&slug, &[("body", "Eenzame tekst")]).await;
        app.moderate(&[parent, lonely], "delete", "").await;
        let page = app.other_browser().get(&format!("/artikelen/{slug}")).await;
        page.assert_contains("[reactie verwijderd]")
            .assert_lacks("Ouder-tekst")
            .assert_lacks("Eenzame tekst")
            .assert_contains("Kind-tekst");
        assert_eq!(select(&page.body, &format!("li#reactie-{parent}.tombstone > ol.thread > li#reactie-{reply}")), 1);
        assert_eq!(select(&page.body, &format!("li#reactie-{lonely}")), 0);
        page.assert_contains("1 reactie");
    }
}

async fn age(app: &TestApp, id: i32, minutes: i64) {
    let mut row: comments::ActiveModel = app.stored(id).await.into();
    row.created_at = Set(Utc::now() - Duration::minutes(minutes));
    row.update(app.db.write()).await.unwrap();
}

db_test! {
    async fn poster_may_edit_within_fifteen_minutes(app) {
        let slug = app.published_article("Bewerken").await;
        let id = app.comment(&slug, &[("body", "Eerste versie")]).await;
        let edit = format!("/artikelen/{slug}/reacties/{id}/bewerken");
        app.get(&edit).await.assert_status(StatusCode::OK).assert_contains("Eerste versie");
        app.post_form(&edit, &[("body", "")]).await.assert_status(StatusCode::UNPROCESSABLE_ENTITY).assert_contains("Schrijf eerst je reactie.");
        app.post_form(&edit, &[("body", "Tweede versie")])
            .await
            .assert_redirect(&format!("/artikelen/{slug}?reactie={id}#reactie-{id}"));
        assert_eq!(app.stored(id).await.body_md, "Tweede versie");

        // Someone else's browser has no edit key.
        let stranger = app.other_browser();
        stranger.get(&edit).await.assert_status(StatusCode::FORBIDDEN).assert_contains("15 minuten");

        age(&app, id, 16).await;
        app.get(&edit).await.assert_status(StatusCode::FORBIDDEN);
        app.post_form(&edit, &[("body", "Te laat")]).await.assert_status(StatusCode::FORBIDDEN);
        assert_eq!(app.stored(id).await.body_md, "Tweede versie");
    }
}

db_test! {
    async fn editing_an_approved_reaction_to_add_links_sends_it_back_to_the_queue(app) {
        let slug = app.published_article("Spam achteraf").await;
        let id = app.approved_comment(&slug, &[("body", "Onschuldig")]).await;
        app.post_form(&format!("/artikelen/{slug}/reacties/{id}/bewerken"), &[("body", "Koop https://a.example en https://b.example")])
            .await
            .assert_status(StatusCode::SEE_OTHER);
        assert_eq!(status(&app, id).await, "pending");
        let log = audit::for_comment(app.db.read(), id).await.unwrap();
        let last = log.last().unwrap();
        assert_eq!((last.actor.as_str(), last.action.as_str(), last.from_status.map(|s| s.as_str()), last.to_status.as_str(), last.reason.as_deref()),
            ("system", "edit", Some("approved"), "pending", Some("links")));
        app.other_browser().get(&format!("/artikelen/{slug}")).await.assert_lacks("a.example");
    }
}

db_test! {
    async fn poster_may_delete_within_fifteen_minutes(app) {
        let slug = app.published_article("Weg ermee").await;
        let id = app.approved_comment(&slug, &[("body", "Spijt van")]).await;
        let delete = format!("/artikelen/{slug}/reacties/{id}/verwijderen");
        app.other_browser().post_form(&delete, &[]).await.assert_status(StatusCode::FORBIDDEN);
        app.post_form(&delete, &[]).await.assert_redirect(&format!("/artikelen/{slug}#reacties"));
        assert_eq!(status(&app, id).await, "deleted");
        app.get(&format!("/artikelen/{slug}")).await.assert_lacks("Spijt van");
        let log = audit::for_comment(app.db.read(), id).await.unwrap();
        assert_eq!(log.last().unwrap().actor, "reader");
    }
}

db_test! {
    async fn closed_article_has_no_form_and_refuses_posts_keeping_the_text(app) {
        let slug = app.published_article("Dicht").await;
        let editor = app.other_browser();
        editor.login_as(Role::Editor).await;
        let article = store::articles::find_by_slug(app.db.read(), &slug).await.unwrap().unwrap();
        editor
            .post_form(&format!("/beheer/artikelen/{}/bewerken", article.id), &[("title", "Dicht"), ("slug", &slug), ("summary", ""), ("body", "Tekst"), ("status", "published")])
            .await
            .assert_status(StatusCode::SEE_OTHER);
        let page = app.get(&format!("/artikelen/{slug}")).await;
        page.assert_contains("Reageren op dit artikel is gesloten").assert_lacks("Laat een reactie achter");
        assert_eq!(select(&page.body, "form.reaction-form"), 0);
        app.post_comment(&slug, &[("body", "Mijn bewaarde tekst")])
            .await
            .assert_status(StatusCode::FORBIDDEN)
            .assert_contains("Mijn bewaarde tekst");
        assert_eq!(store::comments::count(app.db.read()).await.unwrap(), 0);
    }
}

db_test! {
    async fn reactions_on_drafts_and_missing_articles_are_404(app) {
        let editor = app.other_browser();
        editor.login_as(Role::Editor).await;
        editor.create_article("Geheim", "draft").await;
        app.post_comment("geheim", &[]).await.assert_status(StatusCode::NOT_FOUND);
        app.post_comment("bestaat-niet", &[]).await.assert_status(StatusCode::NOT_FOUND);
    }
}

db_test! {
    async fn posting_without_csrf_token_is_403(app) {
        let slug = app.published_article("CSRF").await;
        app.get(&format!("/artikelen/{slug}")).await;
        let token = app.form_token(10);
        app.post_raw(&format!("/artikelen/{slug}/reacties"), &[("author_name", "X"), ("author_email", "x@example.nl"), ("body", "hoi"), ("form_token", &token)])
            .await
            .assert_status(StatusCode::FORBIDDEN);
        assert_eq!(store::comments::count(app.db.read()).await.unwrap(), 0);
    }
}
