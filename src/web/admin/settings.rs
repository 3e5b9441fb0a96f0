//! Admins tune moderation, rate limits and retention periods at run time; every change
//! is logged.

use std::collections::HashMap;

use askama::Template;
use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Query},
};
use serde::Deserialize;

use crate::store::changes::Change;
use crate::{
    app::AppState,
    domain::{
        dates,
        limits::{Action, Quota, Quotas},
        moderation::{Mode, Rules},
        retention::Retention,
        validate::{FieldErrors, FieldMessage},
    },
    error::AppResult,
    retention,
    store::{self, settings as keys},
    web::{
        HtmlForm,
        auth::{AdminOnly, Authorized},
        render_with_status, see_other,
        views::Layout,
    },
};

/// The settings form; quota fields are named `{action}_burst` and `{action}_per_minute`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SettingsForm {
    moderation_mode: String,
    link_threshold: String,
    moderation_words: String,
    block_words: String,
    /// Retention periods in days; a form without them leaves them as they are.
    retention_ip_days: Option<String>,
    retention_unhandled_days: Option<String>,
    #[serde(flatten)]
    quotas: HashMap<String, String>,
}

pub struct QuotaRow {
    pub action: &'static str,
    pub label: &'static str,
    pub burst: String,
    pub per_minute: String,
    pub error: Option<FieldMessage>,
}

pub struct ChangeRow {
    pub when: String,
    pub who: String,
    pub key: String,
    pub old: String,
    pub new: String,
}

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    layout: Layout,
    moderation_mode: String,
    link_threshold: String,
    moderation_words: String,
    block_words: String,
    quotas: Vec<QuotaRow>,
    retention_ip_days: String,
    retention_unhandled_days: String,
    /// When the retention job last ran and what it did.
    retention_run: Option<JobRunView>,
    errors: FieldErrors,
    changes: Vec<ChangeRow>,
    saved: bool,
}

pub struct JobRunView {
    pub when: String,
    pub report: String,
}

const MODE_ERROR: FieldMessage = FieldMessage::new(
    "invalid_choice",
    "Kies een van de drie manieren van modereren.",
    "Choose one of the three moderation modes.",
);
const THRESHOLD_ERROR: FieldMessage = FieldMessage::new(
    "out_of_range",
    "Geef een heel getal van 0 tot 100 (0 zet de linkregel uit).",
    "Give a whole number from 0 to 100 (0 switches the link rule off).",
);
const DAYS_ERROR: FieldMessage = FieldMessage::new(
    "out_of_range",
    "Geef een heel aantal dagen, van 1 tot 3650 (tien jaar).",
    "Give a whole number of days, from 1 to 3650 (ten years).",
);
const QUOTA_ERROR: FieldMessage = FieldMessage::new(
    "out_of_range",
    "Geef hele getallen: direct 1 tot 100.000, daarna 1 tot 6.000.000 per minuut.",
    "Give whole numbers: a burst of 1 to 100,000, then 1 to 6,000,000 per minute.",
);

impl SettingsForm {
    fn from_current(rules: &Rules, quotas: &Quotas, retention: Retention) -> Self {
        let mut form = Self {
            moderation_mode: rules.mode.as_str().to_owned(),
            link_threshold: rules.link_threshold.to_string(),
            moderation_words: rules.moderation_words.join("\n"),
            block_words: rules.block_words.join("\n"),
            retention_ip_days: Some(retention.ip_days.to_string()),
            retention_unhandled_days: Some(retention.unhandled_days.to_string()),
            quotas: HashMap::new(),
        };
        for action in Action::ALL {
            let quota = quotas.get(action);
            form.quotas.insert(
                format!("{}_burst", action.as_str()),
                quota.burst.to_string(),
            );
            form.quotas.insert(
                format!("{}_per_minute", action.as_str()),
                quota.per_minute.to_string(),
            );
        }
        form
    }

    /// Fills the retention fields a form left out with their values now.
    fn or_current_retention(mut self, retention: Retention) -> Self {
        self.retention_ip_days
            .get_or_insert_with(|| retention.ip_days.to_string());
        self.retention_unhandled_days
            .get_or_insert_with(|| retention.unhandled_days.to_string());
        self
    }

    /// Fills the quota fields a form left out with their values now: a page served
    /// before a new action (such as the vote limit) existed still saves.
    fn or_current_quotas(mut self, quotas: &Quotas) -> Self {
        for action in Action::ALL {
            let quota = quotas.get(action);
            for (part, value) in [("burst", quota.burst), ("per_minute", quota.per_minute)] {
                self.quotas
                    .entry(format!("{}_{part}", action.as_str()))
                    .or_insert_with(|| value.to_string());
            }
        }
        self
    }

    fn quota_field(&self, action: Action, part: &str) -> String {
        self.quotas
            .get(&format!("{}_{part}", action.as_str()))
            .cloned()
            .unwrap_or_default()
    }

    fn quota(&self, action: Action) -> Option<Quota> {
        Quota::new(
            self.quota_field(action, "burst").trim().parse().ok()?,
            self.quota_field(action, "per_minute").trim().parse().ok()?,
        )
    }

    /// The values to store, or every field error at once.
    fn checked(&self) -> Result<(Vec<(String, String)>, Quotas), FieldErrors> {
        let mut errors = FieldErrors::default();
        let mode = errors.check(
            "moderation_mode",
            Mode::parse(&self.moderation_mode).ok_or(MODE_ERROR),
        );
        let threshold = errors.check(
            "link_threshold",
            self.link_threshold
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|t| *t <= 100)
                .ok_or(THRESHOLD_ERROR),
        );
        let days = |value: &Option<String>| {
            Retention::parse_days(value.as_deref().unwrap_or_default()).ok_or(DAYS_ERROR)
        };
        let ip_days = errors.check("retention_ip_days", days(&self.retention_ip_days));
        let unhandled_days = errors.check(
            "retention_unhandled_days",
            days(&self.retention_unhandled_days),
        );
        let mut quotas = Quotas::default();
        for action in Action::ALL {
            if let Some(quota) =
                errors.check(action.as_str(), self.quota(action).ok_or(QUOTA_ERROR))
            {
                quotas.0.insert(action, quota);
            }
        }
        let (Some(mode), Some(threshold), Some(ip_days), Some(unhandled_days)) =
            (mode, threshold, ip_days, unhandled_days)
        else {
            return Err(errors);
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let words = |list: &str| keys::word_list(list).join("\n");
        let mut values = vec![
            (keys::MODERATION_MODE.to_owned(), mode.as_str().to_owned()),
            (keys::LINK_THRESHOLD.to_owned(), threshold.to_string()),
            (
                keys::MODERATION_WORDS.to_owned(),
                words(&self.moderation_words),
            ),
            (keys::BLOCK_WORDS.to_owned(), words(&self.block_words)),
            (keys::RETENTION_IP_DAYS.to_owned(), ip_days.to_string()),
            (
                keys::RETENTION_UNHANDLED_DAYS.to_owned(),
                unhandled_days.to_string(),
            ),
        ];
        values.extend(
            Action::ALL
                .into_iter()
                .map(|a| (keys::quota_key(a), quotas.get(a).stored())),
        );
        Ok((values, quotas))
    }
}

async fn page(
    state: &AppState,
    user: &Authorized<AdminOnly>,
    form: &SettingsForm,
    errors: FieldErrors,
    saved: bool,
) -> AppResult<SettingsPage> {
    let users: HashMap<i32, String> = store::users::list(state.db.read())
        .await?
        .into_iter()
        .map(|u| (u.id, u.username))
        .collect();
    let changes = keys::recent_changes(state.db.read(), 20).await?;
    let retention_run = store::jobs::last_run(state.db.read(), retention::JOB)
        .await?
        .map(|run| JobRunView {
            when: dates::exact(run.last_run_at),
            report: run.report,
        });
    Ok(SettingsPage {
        layout: Layout::for_staff("Instellingen", &user.staff, &user.csrf_token),
        moderation_mode: form.moderation_mode.clone(),
        link_threshold: form.link_threshold.clone(),
        moderation_words: form.moderation_words.clone(),
        block_words: form.block_words.clone(),
        quotas: Action::ALL
            .into_iter()
            .map(|action| QuotaRow {
                action: action.as_str(),
                label: action.label(),
                burst: form.quota_field(action, "burst"),
                per_minute: form.quota_field(action, "per_minute"),
                error: errors.get(action.as_str()),
            })
            .collect(),
        retention_ip_days: form.retention_ip_days.clone().unwrap_or_default(),
        retention_unhandled_days: form.retention_unhandled_days.clone().unwrap_or_default(),
        retention_run,
        errors,
        changes: changes
            .into_iter()
            .map(|c| ChangeRow {
                when: dates::exact(c.created_at),
                who: c
                    .user_id
                    .and_then(|id| users.get(&id).cloned())
                    .unwrap_or_else(|| "onbekend".to_owned()),
                key: c.key,
                old: c.old_value.unwrap_or_else(|| "(standaard)".to_owned()),
                new: c.new_value,
            })
            .collect(),
        saved,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SavedQuery {
    opgeslagen: Option<String>,
}

impl SavedQuery {
    /// Whether the page is shown after a save (`?opgeslagen=1`).
    pub fn is_saved(&self) -> bool {
        self.opgeslagen.is_some()
    }
}

#[handler]
pub async fn edit_form(
    Data(state): Data<&AppState>,
    user: Authorized<AdminOnly>,
    Query(query): Query<SavedQuery>,
) -> AppResult<Response> {
    let rules = keys::moderation_rules(state.db.read()).await?;
    let quotas = keys::quotas(state.db.read()).await?;
    let retention = keys::retention(state.db.read()).await?;
    let form = SettingsForm::from_current(&rules, &quotas, retention);
    let page = page(
        state,
        &user,
        &form,
        FieldErrors::default(),
        query.opgeslagen.is_some(),
    )
    .await?;
    render_with_status(&page, StatusCode::OK)
}

#[handler]
pub async fn update(
    Data(state): Data<&AppState>,
    user: Authorized<AdminOnly>,
    HtmlForm(form): HtmlForm<SettingsForm>,
) -> AppResult<Response> {
    let retention = keys::retention(state.db.read()).await?;
    let quotas_now = keys::quotas(state.db.read()).await?;
    let form = form
        .or_current_retention(retention)
        .or_current_quotas(&quotas_now);
    let (values, quotas) = match form.checked() {
        Ok(checked) => checked,
        Err(errors) => {
            let page = page(state, &user, &form, errors, false).await?;
            return render_with_status(&page, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let rules = keys::moderation_rules(state.db.read()).await?;
    let current: HashMap<String, String> =
        SettingsForm::from_current(&rules, &quotas_now, retention)
            .checked()
            .map(|(values, _)| values.into_iter().collect())
            .unwrap_or_default();
    let txn = state.db.begin().await?;
    let changed = keys::save_changes(&txn, &values, &current, user.staff.id).await?;
    txn.commit().await?;
    // Rules and quotas live in memory: both apply from the next request on, on every
    // instance.
    state.rules.forget();
    state.limiters.set_quotas(&quotas);
    state.db.changed(Change::Settings).await;
    tracing::info!(user = %user.staff.username, ?changed, "settings changed");
    Ok(see_other("/beheer/instellingen?opgeslagen=1"))
}
