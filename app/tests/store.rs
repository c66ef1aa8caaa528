//! The store suite: the services and their SQL, run against BOTH backends. Each test gets a fresh
//! database (a temporary SQLite file, or a new PostgreSQL database dropped afterwards).
//!
//! PostgreSQL comes from `PORTAL_TEST_POSTGRES_URL` (default: the local server); a missing server
//! fails the PostgreSQL half. A test never passes without running: to leave that half out, the
//! test command filters it (`--skip postgres::`), so cargo counts it as filtered out, not passed.

use app::ssr::{
    partner_center::{
        wire::{Attributes, CompanyProfile, Customer, ProductSku, SubscribedSku, Subscription},
        PartnerCenterError,
    },
    service::sync::{Licences, TenantData, TenantSource},
};
use app::{
    error::AppError,
    model::{Role, StaffView},
    ssr::{
        auth,
        db::{now_millis, Backend, Db},
        service, store, AppState,
    },
};
use app::{
    model::{SettingKind, ValueSource},
    ssr::service::configuration::{MatrixQuery, RevertItem},
};
use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};

fn postgres_admin_url() -> String {
    std::env::var("PORTAL_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(AppState) -> Fut,
    Fut: Future<Output = ()>,
{
    let scratch = std::env::temp_dir().join("portal-store-tests");
    std::fs::create_dir_all(&scratch).unwrap();
    let test_db = Db::connect_fresh_for_tests(backend, &postgres_admin_url(), &scratch)
        .await
        .unwrap_or_else(|e| panic!("cannot make a fresh {} database: {e}", backend.name()));
    let state = AppState::new(test_db.db.clone(), true);
    test(state).await;
    test_db.drop_database().await;
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test] async fn $name() { super::run(super::Backend::Sqlite, super::$name).await } )*
        }
        mod postgres {
            $( #[tokio::test] async fn $name() { super::run(super::Backend::Postgres, super::$name).await } )*
        }
    };
}

on_both_backends!(
    migrations_leave_a_database_that_answers,
    customers_are_listed_in_name_order_across_keyset_pages,
    search_matches_name_domain_or_tenant_id_in_any_case,
    search_treats_wildcards_literally,
    both_backends_order_names_the_same_way_by_their_folded_keys,
    domains_are_stored_folded_and_unique_in_any_case,
    deleted_customers_are_not_listed,
    helpdesk_sees_only_customers_whose_tags_match_their_scope,
    tag_is_added_and_removed_with_an_audit_line_each,
    invalid_tag_is_refused_and_nothing_is_saved,
    second_tag_of_the_same_name_is_refused_in_any_case,
    removing_a_tag_of_another_customer_is_not_found,
    account_manager_is_assigned_once_and_unassigned_with_audit,
    sign_in_refuses_wrong_password_and_unknown_user_alike,
    sign_in_rotates_the_session_and_sign_out_ends_it,
    expired_sessions_are_not_resolved,
    idle_sessions_end_and_are_purged_while_used_ones_live_on,
    disabling_a_staff_member_ends_their_sessions_at_once,
    repeated_failures_lock_an_address_known_or_not_until_the_lock_ends,
    guesses_sent_together_are_not_all_tried_once_the_address_is_locked,
    concurrent_writes_that_read_first_all_succeed,
    adopted_billed_rows_reconcile_and_an_edit_shows_a_typed_difference_acknowledged_until_it_changes,
    billed_rows_are_versioned_and_a_stale_edit_names_who_changed_it,
    an_invalid_billed_row_is_refused_field_by_field_and_nothing_is_saved,
    an_import_replaces_the_billed_record_of_the_customers_it_names_after_a_dry_run,
    an_import_with_a_rejected_line_writes_nothing,
    consumption_flags_products_by_the_customers_own_threshold_and_names_tenants_without_consent,
    the_partner_consumption_sums_each_product_over_the_customers_in_scope,
    a_help_desk_user_sees_reports_of_tagged_customers_only_and_cannot_keep_the_billed_record,
    the_partner_reconciliation_lists_customers_by_money_at_stake_in_scope_and_by_filter,
    every_write_a_reconciliation_reads_keeps_the_customers_summary_current,
    a_deleted_customer_leaves_every_list_and_comes_back_as_it_was,
    a_purge_removes_a_deleted_customer_and_every_row_of_it_and_the_audit_keeps_its_name,
    a_customer_whose_domain_was_taken_meanwhile_is_not_restored,
    released_tenants_can_be_linked_elsewhere_and_a_restore_takes_back_only_the_free_ones,
    the_audit_log_pages_newest_first_by_keyset_and_filters_by_customer_staff_action_and_day,
    the_shared_rate_budget_gives_every_connection_its_own_slot,
    a_pause_of_the_shared_rate_budget_holds_everyone_and_then_halves_the_rate,
    every_catalog_default_is_a_valid_value_of_its_kind,
    a_customer_follows_the_default_until_it_is_overridden,
    override_with_an_invalid_value_is_refused_and_nothing_is_saved,
    override_revert_and_change_are_versioned_and_audited,
    a_stale_version_is_refused_with_the_current_value_and_who_set_it,
    a_new_override_after_a_revert_does_not_accept_the_old_version,
    default_change_reaches_customers_without_an_override_only,
    a_stale_default_change_is_refused,
    history_lists_changes_and_restores_a_past_value,
    matrix_lists_overrides_by_setting_category_and_tag,
    bulk_revert_is_all_or_nothing,
    helpdesk_edits_configuration_only_within_their_tags,
    the_matrix_and_bulk_revert_keep_to_a_scoped_staff_members_customers,
    effective_configuration_covers_a_large_catalog_with_overrides_applied,
    a_sync_replaces_each_tenant_snapshot_and_records_the_status,
    a_failing_customer_is_recorded_and_the_others_succeed,
    two_requests_for_all_customers_make_one_job,
    a_stopped_job_resumes_without_fetching_finished_customers_again,
    two_workers_on_one_database_sync_each_customer_once,
    the_sync_worker_survives_a_database_outage_and_finishes_the_job,
    concurrent_claims_never_exceed_their_limit_and_are_disjoint,
    a_customer_that_stops_every_worker_is_retried_later_then_given_up,
    a_live_worker_takes_over_the_claims_of_a_silent_one_and_forgets_it,
    reloading_one_customer_is_audited_and_refused_outside_a_help_desk_scope,
    one_staff_member_may_start_only_so_many_reloads_a_minute,
    provider_directory_refresh_adds_renames_marks_gone_and_brings_back,
    a_tenant_is_linked_unlinked_and_linked_again_with_audit,
    a_link_while_the_customer_is_being_synced_is_synced_after_it,
    a_tenant_belongs_to_one_customer_and_a_second_link_names_the_holder,
    link_multiple_is_all_or_nothing,
    all_matching_is_refused_when_the_matching_tenants_changed_since_they_were_counted,
    two_concurrent_links_of_one_tenant_make_one_link_and_one_conflict,
    new_customers_from_tenants_are_validated_and_may_not_take_a_used_domain,
    suggestions_are_explained_accepted_once_and_ambiguity_is_left_to_people,
    the_directory_pages_by_name_and_filters_by_link_state,
    one_tenant_failing_does_not_stop_the_others_and_a_refused_licence_call_keeps_the_rest,
    without_delegated_consent_licence_counts_are_marked_missing_not_zero,
    a_fresh_directory_spares_the_profile_call,
    an_admin_adds_a_member_changes_role_and_scope_and_every_step_is_audited,
    bad_staff_input_is_refused_by_field_and_nothing_is_saved,
    disabling_ends_sessions_and_enabling_lets_the_member_back,
    the_last_enabled_admin_cannot_be_demoted_or_disabled,
    of_two_concurrent_demotions_of_the_last_two_admins_one_fails,
    a_member_changes_their_own_password_with_the_current_one,
    api_tokens_are_hashed_scoped_expire_and_revoke_at_once,
    a_member_ends_only_their_own_sessions_and_activity_lists_one_customers_entries,
);

async fn staff(state: &AppState, email: &str, role: Role) -> StaffView {
    let id = auth::create_staff(state, email, email, role, format!("{email}-password"))
        .await
        .unwrap();
    StaffView {
        id,
        email: email.to_owned(),
        display_name: email.to_owned(),
        role,
    }
}

async fn customer(state: &AppState, name: &str, domain: &str) -> i64 {
    let mut conn = state.db.pool().acquire().await.unwrap();
    store::customers::insert(&mut conn, name, domain, now_millis())
        .await
        .unwrap()
}

async fn tag(state: &AppState, admin: &StaffView, customer_id: i64, name: &str, value: &str) {
    service::tags::add(&state.db, admin, customer_id, name, value)
        .await
        .unwrap();
}

async fn audit_actions(state: &AppState, customer_id: i64) -> Vec<String> {
    let mut conn = state.db.pool().acquire().await.unwrap();
    store::audit::for_customer(&mut conn, customer_id, 100)
        .await
        .unwrap()
        .into_iter()
        .rev()
        .map(|row| format!("{} {} by {}", row.action, row.subject, row.actor_email))
        .collect()
}

async fn names(
    state: &AppState,
    who: &StaffView,
    search: &str,
    after: Option<i64>,
) -> (Vec<String>, Option<i64>) {
    let page = service::customers::list(&state.db, who, search, after)
        .await
        .unwrap();
    (
        page.customers.into_iter().map(|c| c.name).collect(),
        page.next_after,
    )
}

async fn migrations_leave_a_database_that_answers(state: AppState) {
    state.db.ping().await.unwrap();
    // Running them again changes nothing and does not fail.
    state.db.migrate().await.unwrap();
}

async fn customers_are_listed_in_name_order_across_keyset_pages(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let mut expected = Vec::new();
    for i in 0..30 {
        // Mixed case: the order is by case-folded name, then id.
        let name = if i % 2 == 0 {
            format!("company {i:02}")
        } else {
            format!("Company {i:02}")
        };
        customer(&state, &name, &format!("c{i}.test")).await;
        expected.push(name);
    }
    // Two customers with the same name are both listed, once each.
    customer(&state, "company 29", "twin.test").await;
    expected.push("company 29".into());

    let (first, next) = names(&state, &admin, "", None).await;
    assert_eq!(first.len(), 25);
    let (second, last) = names(&state, &admin, "", next).await;
    assert_eq!(last, None);
    let all: Vec<String> = first.into_iter().chain(second).collect();
    assert_eq!(all, expected);
}

async fn search_matches_name_domain_or_tenant_id_in_any_case(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let arzt = customer(&state, "Ärztehaus Süd", "aerztehaus.test").await;
    let contoso = customer(&state, "Contoso", "contoso.example").await;
    customer(&state, "Fabrikam", "fabrikam.test").await;
    let mut conn = state.db.pool().acquire().await.unwrap();
    store::customers::insert_tenant(
        &mut conn,
        contoso,
        "7F3A9C1E-0000-4000-8000-00000000ABCD",
        "Contoso",
        "contoso.onmicrosoft.com",
        now_millis(),
    )
    .await
    .unwrap();
    drop(conn);

    assert_eq!(
        names(&state, &admin, "ÄRZTE", None).await.0,
        ["Ärztehaus Süd"]
    );
    assert_eq!(
        names(&state, &admin, "  contoso.EXAMPLE ", None).await.0,
        ["Contoso"]
    );
    // Tenant ids: by prefix, or the whole id in any case; not from the middle.
    assert_eq!(names(&state, &admin, "7f3a9c1e", None).await.0, ["Contoso"]);
    assert_eq!(
        names(&state, &admin, "7F3A9C1E-0000-4000-8000-00000000ABCD", None)
            .await
            .0,
        ["Contoso"]
    );
    assert!(names(&state, &admin, "0000abcd", None).await.0.is_empty());
    // One or two characters match the start of a name.
    assert_eq!(names(&state, &admin, "co", None).await.0, ["Contoso"]);
    assert_eq!(names(&state, &admin, "ä", None).await.0, ["Ärztehaus Süd"]);
    assert!(names(&state, &admin, "nobody", None).await.0.is_empty());
    let header = service::customers::header(&state.db, &admin, arzt)
        .await
        .unwrap();
    assert_eq!(header.primary_domain, "aerztehaus.test");
}

async fn both_backends_order_names_the_same_way_by_their_folded_keys(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    for (n, name) in [
        "beta",
        "Zeta",
        "Ärzte",
        "alpha",
        "ALPHA",
        "Émile",
        "émile",
        "Δelta",
        "10 Downing",
        "9 Elms",
    ]
    .iter()
    .enumerate()
    {
        customer(&state, name, &format!("d{n}.test")).await;
    }
    // Byte order of the folded names, then id: the same on SQLite and PostgreSQL.
    assert_eq!(
        names(&state, &admin, "", None).await.0,
        [
            "10 Downing",
            "9 Elms",
            "alpha",
            "ALPHA",
            "beta",
            "Zeta",
            "Ärzte",
            "Émile",
            "émile",
            "Δelta"
        ]
    );
}

async fn domains_are_stored_folded_and_unique_in_any_case(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let id = customer(&state, "Contoso", " Contoso.COM ").await;
    let header = service::customers::header(&state.db, &admin, id)
        .await
        .unwrap();
    assert_eq!(header.primary_domain, "contoso.com");
    let mut conn = state.db.pool().acquire().await.unwrap();
    let again =
        store::customers::insert(&mut conn, "Contoso again", "CONTOSO.com", now_millis()).await;
    assert!(
        matches!(&again, Err(sqlx::Error::Database(e)) if e.is_unique_violation()),
        "{again:?}"
    );
    assert_eq!(
        store::customers::find_by_domain(&mut conn, "contoso.COM")
            .await
            .unwrap(),
        Some(id)
    );
}

async fn search_treats_wildcards_literally(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    customer(&state, "100% Fitness", "fitness.test").await;
    customer(&state, "1000 Lakes", "lakes.test").await;
    customer(&state, "Under_Score", "underscore.test").await;
    customer(&state, "UnderXScore", "underx.test").await;
    assert_eq!(
        names(&state, &admin, "100%", None).await.0,
        ["100% Fitness"]
    );
    assert_eq!(
        names(&state, &admin, "under_", None).await.0,
        ["Under_Score"]
    );
}

async fn deleted_customers_are_not_listed(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let gone = customer(&state, "Gone Ltd", "gone.test").await;
    customer(&state, "Here Ltd", "here.test").await;
    sqlx::query("UPDATE customers SET deleted_at = $1 WHERE id = $2")
        .bind(now_millis())
        .bind(gone)
        .execute(state.db.pool())
        .await
        .unwrap();
    assert_eq!(names(&state, &admin, "", None).await.0, ["Here Ltd"]);
    let err = service::customers::header(&state.db, &admin, gone)
        .await
        .unwrap_err();
    assert_eq!(err.status(), 404);
}

async fn helpdesk_sees_only_customers_whose_tags_match_their_scope(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let helpdesk = staff(&state, "help@x.test", Role::Helpdesk).await;
    let mut conn = state.db.pool().acquire().await.unwrap();
    store::staff::add_tag_scope(&mut conn, helpdesk.id, "region", "North")
        .await
        .unwrap();
    drop(conn);
    let north = customer(&state, "North Co", "north.test").await;
    let south = customer(&state, "South Co", "south.test").await;
    let lower = customer(&state, "Lowercase North", "lower.test").await;
    customer(&state, "Untagged", "untagged.test").await;
    // The tag name matches in any case; the value must match exactly.
    tag(&state, &admin, north, "REGION", "North").await;
    tag(&state, &admin, south, "Region", "South").await;
    tag(&state, &admin, lower, "Region", "north").await;

    assert_eq!(names(&state, &helpdesk, "", None).await.0, ["North Co"]);
    assert_eq!(names(&state, &admin, "", None).await.0.len(), 4);
    let refused = service::tags::section(&state.db, &helpdesk, south)
        .await
        .unwrap_err();
    assert_eq!(refused, AppError::not_found("The customer"));
    assert!(service::tags::section(&state.db, &helpdesk, north)
        .await
        .is_ok());
    let missing = service::tags::section(&state.db, &helpdesk, 999_999)
        .await
        .unwrap_err();
    assert_eq!(missing.status(), 404);
}

async fn tag_is_added_and_removed_with_an_audit_line_each(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let c = customer(&state, "Tagged", "tagged.test").await;
    let added = service::tags::add(&state.db, &admin, c, "  Tier ", " Gold ")
        .await
        .unwrap();
    assert_eq!(
        (added.name.as_str(), added.value.as_str()),
        ("Tier", "Gold")
    );
    let section = service::tags::section(&state.db, &admin, c).await.unwrap();
    assert_eq!(section.tags, vec![added.clone()]);
    assert!(section.can_edit);

    service::tags::remove(&state.db, &admin, c, added.id)
        .await
        .unwrap();
    assert!(service::tags::section(&state.db, &admin, c)
        .await
        .unwrap()
        .tags
        .is_empty());
    assert_eq!(
        audit_actions(&state, c).await,
        [
            "tag.add tag Tier by admin@x.test",
            "tag.remove tag Tier by admin@x.test"
        ]
    );
    let mut conn = state.db.pool().acquire().await.unwrap();
    let rows = store::audit::for_customer(&mut conn, c, 10).await.unwrap();
    assert_eq!(
        rows[0].before_json.as_deref(),
        Some(r#"{"name":"Tier","value":"Gold"}"#)
    );
    assert_eq!(
        rows[1].after_json.as_deref(),
        Some(r#"{"name":"Tier","value":"Gold"}"#)
    );
}

async fn invalid_tag_is_refused_and_nothing_is_saved(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let c = customer(&state, "Strict", "strict.test").await;
    tag(&state, &admin, c, "Keep", "me").await;
    let long = "n".repeat(65);
    for (name, value, field) in [
        ("", "v", "name"),
        ("   ", "v", "name"),
        (long.as_str(), "v", "name"),
        ("bad\tname", "v", "name"),
        ("ok", "", "value"),
        ("ok", "line\nbreak", "value"),
    ] {
        let err = service::tags::add(&state.db, &admin, c, name, value)
            .await
            .unwrap_err();
        assert!(
            err.field_message(field).is_some(),
            "{name:?}/{value:?}: {err:?}"
        );
        assert_eq!(err.status(), 400);
    }
    let tags = service::tags::section(&state.db, &admin, c)
        .await
        .unwrap()
        .tags;
    assert_eq!(tags.len(), 1);
    assert_eq!(tags[0].name, "Keep");
    assert_eq!(audit_actions(&state, c).await.len(), 1);
}

async fn second_tag_of_the_same_name_is_refused_in_any_case(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let c = customer(&state, "Dup", "dup.test").await;
    tag(&state, &admin, c, "Région", "1").await;
    let err = service::tags::add(&state.db, &admin, c, "RÉGION", "2")
        .await
        .unwrap_err();
    assert!(
        err.field_message("name")
            .unwrap()
            .contains("already has a tag"),
        "{err:?}"
    );
    // Another customer may use the name.
    let other = customer(&state, "Other", "other.test").await;
    tag(&state, &admin, other, "Région", "1").await;
}

async fn removing_a_tag_of_another_customer_is_not_found(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let a = customer(&state, "A", "a.test").await;
    let b = customer(&state, "B", "b.test").await;
    let t = service::tags::add(&state.db, &admin, a, "Name", "v")
        .await
        .unwrap();
    let err = service::tags::remove(&state.db, &admin, b, t.id)
        .await
        .unwrap_err();
    assert_eq!(err.status(), 404);
    assert_eq!(
        service::tags::section(&state.db, &admin, a)
            .await
            .unwrap()
            .tags
            .len(),
        1
    );
}

async fn account_manager_is_assigned_once_and_unassigned_with_audit(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let reader = staff(&state, "reader@x.test", Role::Reader).await;
    let c = customer(&state, "Managed", "managed.test").await;
    let mut conn = state.db.pool().acquire().await.unwrap();
    let m = store::account_managers::insert(
        &mut conn,
        "Mei Lin",
        "mei@p.test",
        "+1 555 0105",
        now_millis(),
    )
    .await
    .unwrap();
    drop(conn);

    let before = service::account_managers::section(&state.db, &admin, c)
        .await
        .unwrap();
    assert!(before.assigned.is_empty());
    assert_eq!(before.assignable.len(), 1);
    service::account_managers::assign(&state.db, &admin, c, m)
        .await
        .unwrap();
    service::account_managers::assign(&state.db, &admin, c, m)
        .await
        .unwrap();
    let after = service::account_managers::section(&state.db, &admin, c)
        .await
        .unwrap();
    assert_eq!(after.assigned.len(), 1);
    assert_eq!(after.assigned[0].phone, "+1 555 0105");
    assert!(after.assignable.is_empty());
    let as_reader = service::account_managers::section(&state.db, &reader, c)
        .await
        .unwrap();
    assert!(!as_reader.can_assign && as_reader.assignable.is_empty());
    let listed = service::customers::list(&state.db, &admin, "", None)
        .await
        .unwrap();
    assert_eq!(listed.customers[0].account_managers, ["Mei Lin"]);

    let unknown = service::account_managers::assign(&state.db, &admin, c, m + 100)
        .await
        .unwrap_err();
    assert!(unknown.field_message("account_manager_id").is_some());
    service::account_managers::unassign(&state.db, &admin, c, m)
        .await
        .unwrap();
    let again = service::account_managers::unassign(&state.db, &admin, c, m)
        .await
        .unwrap_err();
    assert_eq!(again.status(), 404);
    assert_eq!(
        audit_actions(&state, c).await,
        [
            "account_manager.assign account manager mei@p.test by admin@x.test",
            "account_manager.unassign account manager mei@p.test by admin@x.test"
        ]
    );
}

async fn sign_in_refuses_wrong_password_and_unknown_user_alike(state: AppState) {
    staff(&state, "someone@x.test", Role::Reader).await;
    let wrong = auth::sign_in(&state, "someone@x.test", "nope".into(), None, None)
        .await
        .unwrap_err();
    let unknown = auth::sign_in(&state, "nobody@x.test", "nope".into(), None, None)
        .await
        .unwrap_err();
    assert_eq!(wrong, unknown);
    assert_eq!(wrong.field_message("password"), Some(auth::SIGN_IN_REFUSED));
    // The e-mail matches in any case and with surrounding spaces.
    let (_, who) = auth::sign_in(
        &state,
        " SomeOne@X.test ",
        "someone@x.test-password".into(),
        None,
        None,
    )
    .await
    .unwrap();
    assert_eq!(who.role, Role::Reader);
}

async fn sign_in_rotates_the_session_and_sign_out_ends_it(state: AppState) {
    staff(&state, "a@x.test", Role::Admin).await;
    let (first, _) = auth::sign_in(&state, "a@x.test", "a@x.test-password".into(), None, None)
        .await
        .unwrap();
    assert_eq!(
        auth::resolve(&state, &first).await.unwrap().unwrap().email,
        "a@x.test"
    );
    let (second, _) = auth::sign_in(
        &state,
        "a@x.test",
        "a@x.test-password".into(),
        Some(&first),
        None,
    )
    .await
    .unwrap();
    assert_ne!(first, second);
    assert!(auth::resolve(&state, &first).await.unwrap().is_none());
    auth::sign_out(&state, &second).await.unwrap();
    assert!(auth::resolve(&state, &second).await.unwrap().is_none());
}

async fn expired_sessions_are_not_resolved(state: AppState) {
    staff(&state, "a@x.test", Role::Admin).await;
    let (token, _) = auth::sign_in(&state, "a@x.test", "a@x.test-password".into(), None, None)
        .await
        .unwrap();
    sqlx::query("UPDATE sessions SET expires_at = $1")
        .bind(now_millis() - 1)
        .execute(state.db.pool())
        .await
        .unwrap();
    assert!(auth::resolve(&state, &token).await.unwrap().is_none());
    assert_eq!(auth::purge_sessions(&state).await.unwrap(), 1);
    assert_eq!(auth::purge_sessions(&state).await.unwrap(), 0);
}

async fn idle_sessions_end_and_are_purged_while_used_ones_live_on(state: AppState) {
    staff(&state, "a@x.test", Role::Admin).await;
    let sign_in = || auth::sign_in(&state, "a@x.test", "a@x.test-password".into(), None, None);
    let (idle, _) = sign_in().await.unwrap();
    let (used, _) = sign_in().await.unwrap();
    let idle_for = state.session_idle_timeout_ms + 1;
    // Both sessions were last used longer ago than the idle timeout, within their lifetime.
    sqlx::query("UPDATE sessions SET last_seen_at = $1, created_at = $1")
        .bind(now_millis() - idle_for)
        .execute(state.db.pool())
        .await
        .unwrap();
    assert!(auth::resolve(&state, &idle).await.unwrap().is_none());
    assert!(auth::resolve(&state, &used).await.unwrap().is_none());
    // A session used a minute ago is kept, and using it records the use.
    let (fresh, _) = sign_in().await.unwrap();
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE created_at > $2")
        .bind(now_millis() - 61_000)
        .bind(now_millis() - idle_for)
        .execute(state.db.pool())
        .await
        .unwrap();
    assert!(auth::resolve(&state, &fresh).await.unwrap().is_some());
    let last_seen: i64 = sqlx::query_scalar("SELECT MAX(last_seen_at) FROM sessions")
        .fetch_one(state.db.pool())
        .await
        .unwrap();
    assert!(now_millis() - last_seen < 60_000, "the use was recorded");
    assert_eq!(auth::purge_sessions(&state).await.unwrap(), 2);
    assert!(auth::resolve(&state, &fresh).await.unwrap().is_some());
}

async fn disabling_a_staff_member_ends_their_sessions_at_once(state: AppState) {
    staff(&state, "gone@x.test", Role::Admin).await;
    staff(&state, "stays@x.test", Role::Admin).await;
    let (gone, _) = auth::sign_in(
        &state,
        "gone@x.test",
        "gone@x.test-password".into(),
        None,
        None,
    )
    .await
    .unwrap();
    let (stays, _) = auth::sign_in(
        &state,
        "stays@x.test",
        "stays@x.test-password".into(),
        None,
        None,
    )
    .await
    .unwrap();
    assert!(auth::disable_staff(&state, " Gone@X.test").await.unwrap());
    assert!(!auth::disable_staff(&state, "nobody@x.test").await.unwrap());
    assert!(auth::resolve(&state, &gone).await.unwrap().is_none());
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(state.db.pool())
        .await
        .unwrap();
    assert_eq!(sessions, 1, "the disabled member's session rows are gone");
    assert!(auth::resolve(&state, &stays).await.unwrap().is_some());
    // A disabled member cannot sign in again, and is told the same as for a wrong password.
    let refused = auth::sign_in(
        &state,
        "gone@x.test",
        "gone@x.test-password".into(),
        None,
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(
        refused.field_message("password"),
        Some(auth::SIGN_IN_REFUSED)
    );
}

async fn repeated_failures_lock_an_address_known_or_not_until_the_lock_ends(state: AppState) {
    staff(&state, "a@x.test", Role::Admin).await;
    let policy = state.sign_in.policy.clone();
    for email in ["a@x.test", "nobody@x.test"] {
        for attempt in 1..=policy.free_failures {
            let err = auth::sign_in(&state, email, "wrong".into(), None, None)
                .await
                .unwrap_err();
            if attempt < policy.free_failures {
                assert_eq!(err.status(), 400, "{email} attempt {attempt}");
            } else {
                assert_eq!(err.status(), 429, "{email} attempt {attempt}: {err}");
            }
        }
    }
    // Locked: even the right password is refused, and the known and the unknown address are
    // told the same.
    let known = auth::sign_in(&state, "a@x.test", "a@x.test-password".into(), None, None)
        .await
        .unwrap_err();
    let unknown = auth::sign_in(&state, "nobody@x.test", "x".into(), None, None)
        .await
        .unwrap_err();
    assert_eq!(known.status(), 429);
    assert_eq!(known, unknown);
    // The lock is stored: it holds for any process, and it ends.
    let key = auth::email_hash("a@x.test");
    let mut conn = state.db.pool().acquire().await.unwrap();
    let until = store::sign_in_failures::locked_until(&mut conn, &key, now_millis())
        .await
        .unwrap()
        .expect("locked");
    assert!(until - now_millis() <= policy.first_lock_ms);
    sqlx::query("UPDATE sign_in_failures SET locked_until = $1")
        .bind(now_millis() - 1)
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    auth::sign_in(&state, "a@x.test", "a@x.test-password".into(), None, None)
        .await
        .expect("signed in once the lock ended");
    // Success forgets the failures: the next wrong password is a plain refusal again.
    let err = auth::sign_in(&state, "a@x.test", "wrong".into(), None, None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), 400);
}

async fn guesses_sent_together_are_not_all_tried_once_the_address_is_locked(state: AppState) {
    staff(&state, "a@x.test", Role::Admin).await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let state = state.clone();
        tasks.spawn(async move {
            auth::sign_in(&state, "a@x.test", "wrong".into(), None, None)
                .await
                .unwrap_err()
        });
    }
    while let Some(refused) = tasks.join_next().await {
        assert!(matches!(refused.unwrap().status(), 400 | 429));
    }
    let failures: i64 = sqlx::query_scalar("SELECT failures FROM sign_in_failures")
        .fetch_one(state.db.pool())
        .await
        .unwrap();
    let policy = &state.sign_in.policy;
    // At most the free failures, plus the checks that were already running when the lock landed.
    assert!(
        failures <= policy.free_failures + policy.hashing_permits as i64,
        "{failures} of 40 guesses were tried"
    );
}

async fn the_shared_rate_budget_gives_every_connection_its_own_slot(state: AppState) {
    // Requests taken at once on many connections (as by many processes): every one gets its
    // own slot, the slots one interval apart, so together they keep the rate. (A second apart:
    // the slots stay ahead of the clock however slowly the connections open.)
    const INTERVAL_US: i64 = 1_000_000;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let db = state.db.clone();
        tasks.spawn(async move {
            let mut conn = db.pool().acquire().await.unwrap();
            store::partner_center_budget::take(&mut conn, db.backend(), "app-a", INTERVAL_US)
                .await
                .unwrap()
        });
    }
    let mut slots = Vec::new();
    while let Some(slot) = tasks.join_next().await {
        slots.push(slot.unwrap());
    }
    slots.sort_by_key(|s| s.at);
    for pair in slots.windows(2) {
        assert_eq!(pair[1].at - pair[0].at, INTERVAL_US);
    }
    // The first waited for nothing; the others for their slot.
    assert_eq!(slots[0].wait(), Duration::ZERO);
    assert!(slots[39].wait() > Duration::from_secs(30));
    // Another app's budget is its own.
    let mut conn = state.db.pool().acquire().await.unwrap();
    let other = store::partner_center_budget::take(&mut conn, state.db.backend(), "app-b", 1)
        .await
        .unwrap();
    assert_eq!(other.wait(), Duration::ZERO);
}

async fn a_pause_of_the_shared_rate_budget_holds_everyone_and_then_halves_the_rate(
    state: AppState,
) {
    const INTERVAL_US: i64 = 1_000;
    let backend = state.db.backend();
    let mut conn = state.db.pool().acquire().await.unwrap();
    store::partner_center_budget::take(&mut conn, backend, "app", INTERVAL_US)
        .await
        .unwrap();
    // A 429 told someone to wait 5 s: the next slot is after it, for every taker.
    store::partner_center_budget::pause(&mut conn, backend, "app", 5_000_000, 60_000_000)
        .await
        .unwrap();
    let first = store::partner_center_budget::take(&mut conn, backend, "app", INTERVAL_US)
        .await
        .unwrap();
    assert!(first.wait() > Duration::from_secs(4), "{:?}", first.wait());
    // And for a minute after it, slots are twice as far apart.
    let second = store::partner_center_budget::take(&mut conn, backend, "app", INTERVAL_US)
        .await
        .unwrap();
    assert_eq!(second.at - first.at, 2 * INTERVAL_US);
    // A shorter pause does not cut a longer one short.
    store::partner_center_budget::pause(&mut conn, backend, "app", 1_000, 1_000)
        .await
        .unwrap();
    let third = store::partner_center_budget::take(&mut conn, backend, "app", INTERVAL_US)
        .await
        .unwrap();
    assert_eq!(third.at - second.at, 2 * INTERVAL_US);
}

fn billed_input(product: &str, quantity: &str) -> service::reports::BilledInput {
    service::reports::BilledInput {
        product: product.into(),
        quantity: quantity.into(),
        ..Default::default()
    }
}

fn kinds(report: &app::model::ReconciliationReport) -> Vec<(String, Vec<&'static str>)> {
    report
        .rows
        .iter()
        .map(|r| {
            (
                r.key.clone(),
                r.differences.iter().map(|d| d.kind.as_str()).collect(),
            )
        })
        .collect()
}

async fn adopted_billed_rows_reconcile_and_an_edit_shows_a_typed_difference_acknowledged_until_it_changes(
    state: AppState,
) {
    use service::reports::{acknowledge, adopt, reconciliation, save_billed};
    let finance = staff(&state, "finance@x.test", Role::Finance).await;
    let c = customers_with_tenants(&state, 1).await[0];
    service::sync::sync_customer(&state.db, &FakeSource::default(), c)
        .await
        .unwrap();
    let (sub1, sub2) = (
        "pc:5ab5c0de-0000-4000-8000-000000000001".to_owned(),
        "pc:5ab5c0de-0000-4000-8000-000000000002".to_owned(),
    );
    let report = reconciliation(&state.db, &finance, c).await.unwrap();
    assert_eq!(
        kinds(&report),
        [
            (sub1.clone(), vec!["missing_in_portal"]),
            (sub2.clone(), vec!["missing_in_portal"])
        ]
    );
    assert!(report.snapshot_at.is_some() && !report.stale);
    assert!(report.can_edit_billed && report.can_acknowledge);

    // Adopting all makes the billed record equal to Partner Center; again, it adopts nothing.
    assert_eq!(adopt(&state.db, &finance, c, None).await.unwrap(), 2);
    assert_eq!(adopt(&state.db, &finance, c, None).await.unwrap(), 0);
    let report = reconciliation(&state.db, &finance, c).await.unwrap();
    assert_eq!(
        kinds(&report),
        [(sub1.clone(), vec![]), (sub2.clone(), vec![])]
    );
    let row = report.rows[0].billed_record.clone().unwrap();
    assert_eq!((row.quantity, row.version), (10, 1));

    // Billing 8 of the 10 bought: a typed difference with both values.
    let edit = service::reports::BilledInput {
        pc_subscription_id: row.pc_subscription_id.clone().unwrap(),
        status: "active".into(),
        ..billed_input(&row.product, "8")
    };
    save_billed(&state.db, &finance, c, Some((row.id, 1)), &edit)
        .await
        .unwrap();
    let report = reconciliation(&state.db, &finance, c).await.unwrap();
    let d = &report.rows[0].differences;
    assert_eq!(
        (
            d.len(),
            d[0].kind.as_str(),
            d[0].pc.as_deref(),
            d[0].billed.as_deref(),
            d[0].acknowledged
        ),
        (
            1,
            "quantity_bought_over_billed",
            Some("10"),
            Some("8"),
            false
        )
    );

    // Acknowledged with a note, it stays so while the values are the same...
    let err = acknowledge(
        &state.db,
        &finance,
        c,
        &sub1,
        "quantity_bought_over_billed",
        " ",
    )
    .await
    .unwrap_err();
    assert!(err.field_message("note").is_some(), "{err:?}");
    acknowledge(
        &state.db,
        &finance,
        c,
        &sub1,
        "quantity_bought_over_billed",
        "Two seats are free of charge this quarter.",
    )
    .await
    .unwrap();
    let report = reconciliation(&state.db, &finance, c).await.unwrap();
    assert!(report.rows[0].differences[0].acknowledged);
    let note = report.rows[0].differences[0]
        .acknowledgement
        .clone()
        .expect("who acknowledged it");
    assert_eq!(
        (note.by.as_str(), note.note.as_str()),
        (
            "finance@x.test",
            "Two seats are free of charge this quarter."
        )
    );
    assert!(note.at > 0);
    // ...and opens again when one changes.
    save_billed(
        &state.db,
        &finance,
        c,
        Some((row.id, 2)),
        &billed_input(&row.product, "7"),
    )
    .await
    .unwrap();
    let report = reconciliation(&state.db, &finance, c).await.unwrap();
    let d = &report.rows[0].differences[0];
    assert_eq!((d.billed.as_deref(), d.acknowledged), (Some("7"), false));
    // A difference that is not there cannot be acknowledged.
    let err = acknowledge(&state.db, &finance, c, &sub2, "status", "nothing")
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Conflict { .. }), "{err:?}");
    let actions = audit_actions(&state, c).await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| a.starts_with("billed.adopt "))
            .count(),
        2,
        "{actions:?}"
    );
    assert!(actions
        .iter()
        .any(|a| a.starts_with("reconciliation.acknowledge ")));
}

async fn billed_rows_are_versioned_and_a_stale_edit_names_who_changed_it(state: AppState) {
    use service::reports::save_billed;
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let finance = staff(&state, "finance@x.test", Role::Finance).await;
    let c = customer(&state, "Contoso", "contoso.com").await;
    let id = save_billed(
        &state.db,
        &admin,
        c,
        None,
        &billed_input("Office 365 E3", "25"),
    )
    .await
    .unwrap();
    save_billed(
        &state.db,
        &finance,
        c,
        Some((id, 1)),
        &billed_input("Office 365 E3", "30"),
    )
    .await
    .unwrap();
    let err = save_billed(
        &state.db,
        &admin,
        c,
        Some((id, 1)),
        &billed_input("Office 365 E3", "20"),
    )
    .await
    .unwrap_err();
    match err {
        AppError::Conflict { message } => assert!(
            message.contains("finance@x.test") && message.contains("quantity now 30"),
            "{message}"
        ),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let mut conn = state.db.pool().acquire().await.unwrap();
    let rows = store::billed::list(&mut conn, c).await.unwrap();
    assert_eq!((rows[0].quantity, rows[0].version), (30, 2));
    drop(conn);
    // Another customer's row is not this customer's.
    let other = customer(&state, "Fabrikam", "fabrikam.com").await;
    let err = save_billed(
        &state.db,
        &admin,
        other,
        Some((id, 2)),
        &billed_input("X", "1"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AppError::NotFound { .. }), "{err:?}");
    assert_eq!(
        audit_actions(&state, c).await,
        [
            format!("billed.add billed row {id} by admin@x.test"),
            format!("billed.change billed row {id} by finance@x.test"),
        ]
    );
}

fn import_file(text: &str) -> Vec<service::billed_import::ImportLine> {
    service::billed_import::read(text.as_bytes()).unwrap()
}

async fn billed_rows(state: &AppState, customer: i64) -> Vec<(String, i64, String, i64)> {
    let mut conn = state.db.pool().acquire().await.unwrap();
    store::billed::list(&mut conn, customer)
        .await
        .unwrap()
        .into_iter()
        .map(|b| (b.product, b.quantity, b.status, b.version))
        .collect()
}

async fn an_import_replaces_the_billed_record_of_the_customers_it_names_after_a_dry_run(
    state: AppState,
) {
    use service::billed_import::{import, LineAction};
    use service::provider::Actor;
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let finance = staff(&state, "finance@x.test", Role::Finance).await;
    let a =
        customer_with_tenants(&state, "Contoso", &["11111111-0000-4000-8000-00000000000a"]).await;
    let b = customer(&state, "Fabrikam", "fabrikam.test").await;
    for (c, product, quantity) in [
        (a, "Office 365 E3", "25"),
        (a, "Visio Plan 2", "2"),
        (b, "Teams", "9"),
    ] {
        service::reports::save_billed(&state.db, &admin, c, None, &billed_input(product, quantity))
            .await
            .unwrap();
    }
    // Contoso named by id and by its tenant: E3 changes, Project is new, Visio is ended.
    let file = format!(
        "customer,product,quantity,unit_price,currency\n{a},office 365 e3,30,,\n11111111-0000-4000-8000-00000000000A,Project Plan 3,4,12.50,EUR\n"
    );
    let lines = import_file(&file);
    let plan = import(&state.db, Actor::Staff(&finance), &lines, true)
        .await
        .unwrap();
    assert_eq!(plan.rejected(), 0);
    assert!(
        matches!(&plan.lines[0].2, LineAction::Change { changes, .. } if *changes == ["product", "quantity"]),
        "{plan:?}"
    );
    assert_eq!(plan.lines[1].2, LineAction::Create);
    assert_eq!(plan.ended.len(), 1);
    assert_eq!(plan.ended[0].2, "Visio Plan 2");
    // A dry run writes nothing.
    assert_eq!(
        billed_rows(&state, a).await,
        [
            ("Office 365 E3".to_owned(), 25, "active".to_owned(), 1),
            ("Visio Plan 2".to_owned(), 2, "active".to_owned(), 1)
        ]
    );
    import(&state.db, Actor::Staff(&finance), &lines, false)
        .await
        .unwrap();
    assert_eq!(
        billed_rows(&state, a).await,
        [
            ("office 365 e3".to_owned(), 30, "active".to_owned(), 2),
            ("Visio Plan 2".to_owned(), 2, "ended".to_owned(), 2),
            ("Project Plan 3".to_owned(), 4, "active".to_owned(), 1)
        ]
    );
    // Fabrikam was not named: untouched.
    assert_eq!(
        billed_rows(&state, b).await,
        [("Teams".to_owned(), 9, "active".to_owned(), 1)]
    );
    // Again: nothing changes, nothing more is ended.
    let again = import(&state.db, Actor::System("command line"), &lines, false)
        .await
        .unwrap();
    assert_eq!(
        (again.created(), again.changed(), again.ended.len()),
        (0, 0, 0)
    );
    let actions = audit_actions(&state, a).await;
    for action in [
        "billed.import_change",
        "billed.import_add",
        "billed.import_end",
    ] {
        assert!(
            actions
                .iter()
                .any(|x| x.starts_with(action) && x.ends_with("by finance@x.test")),
            "{action}: {actions:?}"
        );
    }
}

async fn consumption_flags_products_by_the_customers_own_threshold_and_names_tenants_without_consent(
    state: AppState,
) {
    use service::reports::consumption;
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let reader = staff(&state, "reader@x.test", Role::Reader).await;
    let ids = customers_with_tenants(&state, 2).await;
    service::sync::sync_customer(&state.db, &FakeSource::default(), ids[0])
        .await
        .unwrap();
    let app_only = FakeSource {
        app_only: true,
        ..Default::default()
    };
    service::sync::sync_customer(&state.db, &app_only, ids[1])
        .await
        .unwrap();

    // 12 of 10 assigned: over-assigned, 120 %, not under-used at the default 50 %.
    let report = consumption(&state.db, &reader, ids[0]).await.unwrap();
    assert!(report.snapshot_at.is_some() && report.tenants_needing_consent.is_empty());
    assert_eq!(report.under_used_percent, 50);
    let p = &report.products[0];
    assert_eq!(
        (
            p.purchased,
            p.assigned,
            p.unassigned,
            p.utilisation_percent,
            p.over_assigned,
            p.under_used
        ),
        (10, 12, -2, Some(120), true, false)
    );
    // At 6 of 10 (60 %), the default 50 % does not flag it; the customer's own 70 % does (a
    // setting of the catalog, overridden for this customer only).
    sqlx::query("UPDATE tenant_subscribed_skus SET consumed_units = 6, available_units = 4")
        .execute(state.db.pool())
        .await
        .unwrap();
    let report = consumption(&state.db, &reader, ids[0]).await.unwrap();
    assert_eq!(
        (
            report.products[0].utilisation_percent,
            report.products[0].under_used
        ),
        (Some(60), false)
    );
    service::configuration::save_override(
        &state.db,
        &admin,
        ids[0],
        "reports.under_used_percent",
        "70",
        0,
    )
    .await
    .unwrap();
    let report = consumption(&state.db, &reader, ids[0]).await.unwrap();
    assert_eq!(report.under_used_percent, 70);
    assert!(report.products[0].under_used);
    // Without delegated consent there are no counts to show, and the tenant is named.
    let report = consumption(&state.db, &reader, ids[1]).await.unwrap();
    assert!(report.products.is_empty());
    assert_eq!(report.tenants_needing_consent, ["t-1"]);
}

async fn the_partner_consumption_sums_each_product_over_the_customers_in_scope(state: AppState) {
    use service::reports::partner_consumption;
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let reader = staff(&state, "reader@x.test", Role::Reader).await;
    let ids = customers_with_tenants(&state, 3).await;
    for &id in &ids[..2] {
        service::sync::sync_customer(&state.db, &FakeSource::default(), id)
            .await
            .unwrap();
    }
    let app_only = FakeSource {
        app_only: true,
        ..Default::default()
    };
    service::sync::sync_customer(&state.db, &app_only, ids[2])
        .await
        .unwrap();
    tag(&state, &admin, ids[0], "Region", "North").await;
    tag(&state, &admin, ids[1], "Region", "South").await;
    // The first tenant keeps 12 of 10 assigned; the second assigns 6.
    sqlx::query(
        "UPDATE tenant_subscribed_skus SET consumed_units = 6, available_units = 4 WHERE tenant_id = 't-1'",
    )
    .execute(state.db.pool())
    .await
    .unwrap();
    let totals = |r: &app::model::PartnerConsumption| {
        r.products
            .iter()
            .map(|p| {
                (
                    p.customers,
                    p.tenants,
                    p.purchased,
                    p.assigned,
                    p.unassigned,
                    p.utilisation_percent,
                    p.over_assigned_tenants,
                )
            })
            .collect::<Vec<_>>()
    };
    // The tenant without delegated consent has no counts to add.
    let all = partner_consumption(&state.db, &reader, "").await.unwrap();
    assert_eq!(totals(&all), [(2, 2, 20, 18, 2, Some(90), 1)]);
    let north = partner_consumption(&state.db, &reader, "Region=North")
        .await
        .unwrap();
    assert_eq!(totals(&north), [(1, 1, 10, 12, -2, Some(120), 1)]);
    let err = partner_consumption(&state.db, &reader, "North")
        .await
        .unwrap_err();
    assert!(err.field_message("tag").is_some(), "{err:?}");
    // A Help Desk user adds up the customers of their scope only.
    let helpdesk = staff(&state, "hd@x.test", Role::Helpdesk).await;
    let mut conn = state.db.pool().acquire().await.unwrap();
    store::staff::add_tag_scope(&mut conn, helpdesk.id, "region", "South")
        .await
        .unwrap();
    drop(conn);
    let scoped = partner_consumption(&state.db, &helpdesk, "").await.unwrap();
    assert_eq!(totals(&scoped), [(1, 1, 10, 6, 4, Some(60), 0)]);
}

async fn an_import_with_a_rejected_line_writes_nothing(state: AppState) {
    use service::billed_import::{import, LineAction};
    use service::provider::Actor;
    let a = customer(&state, "Contoso", "contoso.test").await;
    let file = format!(
        "customer,product,quantity,billing_cycle\n{a},Office 365 E3,25,monthly\n{a},Visio,-1,weekly\n999999,Teams,3,\nnobody,Teams,3,\n"
    );
    let plan = import(
        &state.db,
        Actor::System("command line"),
        &import_file(&file),
        false,
    )
    .await
    .unwrap();
    assert_eq!(plan.rejected(), 3);
    let why: Vec<String> = plan
        .lines
        .iter()
        .filter_map(|(line, _, a)| match a {
            LineAction::Reject(why) => Some(format!("{line}: {why}")),
            _ => None,
        })
        .collect();
    assert!(
        why[0].starts_with("3: quantity:") && why[0].contains("billing_cycle:"),
        "{why:?}"
    );
    assert!(
        why[1].starts_with("4: there is no customer 999999"),
        "{why:?}"
    );
    assert!(why[2].starts_with("5: \"nobody\" is neither"), "{why:?}");
    assert!(billed_rows(&state, a).await.is_empty(), "nothing written");
}

async fn an_invalid_billed_row_is_refused_field_by_field_and_nothing_is_saved(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let c = customer(&state, "Contoso", "contoso.com").await;
    let input = service::reports::BilledInput {
        billing_cycle: "weekly".into(),
        unit_price: "12,50".into(),
        pc_subscription_id: "not-a-guid".into(),
        ..billed_input("", "-1")
    };
    let err = service::reports::save_billed(&state.db, &admin, c, None, &input)
        .await
        .unwrap_err();
    for field in [
        "product",
        "quantity",
        "billing_cycle",
        "unit_price",
        "pc_subscription_id",
    ] {
        assert!(err.field_message(field).is_some(), "{field}: {err:?}");
    }
    let mut conn = state.db.pool().acquire().await.unwrap();
    assert!(store::billed::list(&mut conn, c).await.unwrap().is_empty());
    assert!(audit_actions(&state, c).await.is_empty());
}

async fn a_help_desk_user_sees_reports_of_tagged_customers_only_and_cannot_keep_the_billed_record(
    state: AppState,
) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let north = customer(&state, "North Co", "north.test").await;
    let south = customer(&state, "South Co", "south.test").await;
    tag(&state, &admin, north, "Region", "North").await;
    tag(&state, &admin, south, "Region", "South").await;
    let helpdesk = staff(&state, "hd@x.test", Role::Helpdesk).await;
    let mut conn = state.db.pool().acquire().await.unwrap();
    store::staff::add_tag_scope(&mut conn, helpdesk.id, "region", "North")
        .await
        .unwrap();
    drop(conn);
    let report = service::reports::reconciliation(&state.db, &helpdesk, north)
        .await
        .unwrap();
    assert!(!report.can_edit_billed && !report.can_acknowledge);
    let err = service::reports::reconciliation(&state.db, &helpdesk, south)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::NotFound { .. }), "{err:?}");
}

fn priced(product: &str, quantity: &str, price: &str) -> service::reports::BilledInput {
    service::reports::BilledInput {
        unit_price: price.into(),
        currency: if price.is_empty() { "" } else { "EUR" }.into(),
        ..billed_input(product, quantity)
    }
}

async fn the_partner_reconciliation_lists_customers_by_money_at_stake_in_scope_and_by_filter(
    state: AppState,
) {
    use service::reports::{partner_reconciliation, PartnerQuery};
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let finance = staff(&state, "finance@x.test", Role::Finance).await;
    let (alpha, bravo, charlie, delta) = (
        customer(&state, "Alpha", "alpha.test").await,
        customer(&state, "Bravo", "bravo.test").await,
        customer(&state, "Charlie", "charlie.test").await,
        customer(&state, "Delta", "delta.test").await,
    );
    for (c, region) in [
        (alpha, "North"),
        (bravo, "South"),
        (charlie, "North"),
        (delta, "North"),
    ] {
        tag(&state, &admin, c, "Region", region).await;
    }
    // Billed rows Partner Center does not have: all of each is at stake, where it has a price.
    let save = |c: i64, input: service::reports::BilledInput| {
        let (db, finance) = (state.db.clone(), finance.clone());
        async move { save_billed_ok(&db, &finance, c, &input).await }
    };
    save(alpha, priced("Office 365 E3", "10", "20.00")).await;
    let bravo_row = save(bravo, priced("Office 365 E5", "5", "100.5")).await;
    save(charlie, priced("Visio Plan 2", "3", "")).await;
    save(charlie, priced("Project Plan 3", "1", "")).await;
    // Delta has nothing to reconcile.

    let all = |query: PartnerQuery| {
        let (db, who) = (state.db.clone(), finance.clone());
        async move { partner_reconciliation(&db, &who, &query).await }
    };
    let names = |r: &app::model::PartnerReconciliation| {
        r.rows
            .iter()
            .map(|l| l.customer_name.clone())
            .collect::<Vec<_>>()
    };
    let report = all(PartnerQuery::default()).await.unwrap();
    assert_eq!(names(&report), ["Bravo", "Alpha", "Charlie"]);
    assert_eq!((report.customers, report.customers_listed), (3, 3));
    assert_eq!(
        report.totals,
        [(app::model::DifferenceKind::MissingInPartnerCenter, 4)]
    );
    let money = |r: &app::model::PartnerReconciliation, i: usize| {
        r.rows[i]
            .money_at_stake
            .iter()
            .map(|m| format!("{} {}", m.currency, m.amount))
            .collect::<Vec<_>>()
    };
    assert_eq!(money(&report, 0), ["EUR 502.50"]);
    assert_eq!(money(&report, 1), ["EUR 200.00"]);
    assert!(money(&report, 2).is_empty());
    assert_eq!(report.rows[2].differences, 2);

    // By tag; by kind (the totals stay those of every customer looked at).
    let north = all(PartnerQuery {
        tag: "region=North".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(names(&north), ["Alpha", "Charlie"]);
    let status = all(PartnerQuery {
        kind: "status".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(status.rows.is_empty() && status.customers_listed == 0);
    assert_eq!(status.totals, report.totals);
    let err = all(PartnerQuery {
        kind: "bogus".into(),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert!(err.field_message("kind").is_some(), "{err:?}");
    let err = all(PartnerQuery {
        tag: "North".into(),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert!(err.field_message("tag").is_some(), "{err:?}");

    // Acknowledged, Bravo's difference leaves the list, and comes back when asked for.
    service::reports::acknowledge(
        &state.db,
        &finance,
        bravo,
        &format!("billed:{bravo_row}"),
        "missing_in_partner_center",
        "Bought through another distributor.",
    )
    .await
    .unwrap();
    let report = all(PartnerQuery::default()).await.unwrap();
    assert_eq!(names(&report), ["Alpha", "Charlie"]);
    let with_acknowledged = all(PartnerQuery {
        include_acknowledged: true,
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(names(&with_acknowledged), ["Alpha", "Charlie", "Bravo"]);

    // A Help Desk user sees the customers of their scope only.
    let helpdesk = staff(&state, "hd@x.test", Role::Helpdesk).await;
    let mut conn = state.db.pool().acquire().await.unwrap();
    store::staff::add_tag_scope(&mut conn, helpdesk.id, "region", "South")
        .await
        .unwrap();
    drop(conn);
    let scoped = partner_reconciliation(
        &state.db,
        &helpdesk,
        &PartnerQuery {
            include_acknowledged: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(names(&scoped), ["Bravo"]);
    assert_eq!(scoped.customers, 1);
}

/// The customer's stored reconciliation summary, checked to be of the customer's generation now
/// and equal to one computed afresh.
async fn summary_is_current(db: &Db, customer_id: i64, after: &str) -> store::summaries::Summary {
    let mut conn = db.pool().acquire().await.unwrap();
    let (generation, stored) = store::summaries::load(&mut conn, customer_id)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("after {after}: no summary stored"));
    let now = store::summaries::generation(&mut conn, customer_id)
        .await
        .unwrap();
    assert_eq!(
        generation, now,
        "after {after}: the stored summary is stale"
    );
    let computed = service::reports::computed_summary(&mut conn, customer_id)
        .await
        .unwrap();
    assert_eq!(stored, computed, "after {after}");
    stored
}

async fn every_write_a_reconciliation_reads_keeps_the_customers_summary_current(state: AppState) {
    use app::model::DifferenceKind::{MissingInPortal, QuantityBoughtOverBilled};
    use service::provider::{link, unlink, Actor, LinkTarget};
    use service::reports::{acknowledge, adopt, partner_reconciliation, save_billed};
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let finance = staff(&state, "finance@x.test", Role::Finance).await;
    directory(&state, &[(T1, "Contoso EU", "contoso-eu.onmicrosoft.com")]).await;
    let c = customer(&state, "Contoso", "contoso.com").await;
    let db = &state.db;

    link(
        db,
        Actor::Staff(&admin),
        &ticked(&[T1]),
        &LinkTarget::Existing(c),
        None,
    )
    .await
    .unwrap();
    let summary = summary_is_current(db, c, "a link").await;
    assert!(!summary.has_rows, "nothing synced or billed yet");

    service::sync::sync_customer(db, &FakeSource::default(), c)
        .await
        .unwrap();
    let summary = summary_is_current(db, c, "a sync").await;
    assert_eq!(summary.counts, [(MissingInPortal, false, 2)]);
    assert!(summary.has_rows && summary.snapshot_at.is_some());

    adopt(db, &finance, c, None).await.unwrap();
    assert!(summary_is_current(db, c, "adopting")
        .await
        .counts
        .is_empty());

    let mut conn = db.pool().acquire().await.unwrap();
    let row = store::billed::list(&mut conn, c).await.unwrap()[0].clone();
    drop(conn);
    let edit = service::reports::BilledInput {
        pc_subscription_id: row.pc_subscription_id.clone().unwrap(),
        unit_price: "10.25".into(),
        currency: "EUR".into(),
        ..billed_input(&row.product, "8")
    };
    save_billed(db, &finance, c, Some((row.id, row.version)), &edit)
        .await
        .unwrap();
    let summary = summary_is_current(db, c, "an edit").await;
    assert_eq!(summary.counts, [(QuantityBoughtOverBilled, false, 1)]);
    assert_eq!(summary.money, [("EUR".to_owned(), 205_000)]);

    let key = format!("pc:{}", row.pc_subscription_id.clone().unwrap());
    acknowledge(
        db,
        &finance,
        c,
        &key,
        "quantity_bought_over_billed",
        "Free seats.",
    )
    .await
    .unwrap();
    let summary = summary_is_current(db, c, "an acknowledgement").await;
    assert_eq!(summary.counts, [(QuantityBoughtOverBilled, true, 1)]);

    let file = format!("customer,product,quantity\n{c},Visio Plan 2,3\n");
    service::billed_import::import(db, Actor::Staff(&finance), &import_file(&file), false)
        .await
        .unwrap();
    summary_is_current(db, c, "an import").await;

    unlink(db, &admin, c, T1).await.unwrap();
    let summary = summary_is_current(db, c, "an unlink").await;
    assert!(summary.snapshot_at.is_none());

    // A write only the store saw (as the demo's seed writes) leaves the summary stale, marked
    // so; the next partner-wide view computes it.
    let mut conn = db.pool().acquire().await.unwrap();
    let fields = service::reports::parse_billed(&billed_input("Project Plan 3", "1")).unwrap();
    store::billed::insert(&mut conn, c, &fields, "seed", 0)
        .await
        .unwrap();
    let stale = store::summaries::stale_in(&mut conn, store::billed::ReportScope::Customer(c))
        .await
        .unwrap();
    assert_eq!(stale.len(), 1, "{stale:?}");
    drop(conn);
    let view = partner_reconciliation(db, &finance, &Default::default())
        .await
        .unwrap();
    assert_eq!(view.rows.len(), 1);
    summary_is_current(db, c, "the next view").await;
}

async fn save_billed_ok(
    db: &app::ssr::db::Db,
    who: &StaffView,
    customer_id: i64,
    input: &service::reports::BilledInput,
) -> i64 {
    service::reports::save_billed(db, who, customer_id, None, input)
        .await
        .unwrap()
}

async fn concurrent_writes_that_read_first_all_succeed(state: AppState) {
    // Each tag add reads (the customer's visibility) before it writes. On SQLite a deferred
    // transaction doing that fails with "database is locked" when another connection writes
    // in between; write transactions start with BEGIN IMMEDIATE so none does.
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let c = customer(&state, "Contoso", "contoso.test").await;
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..24 {
        let (db, admin) = (state.db.clone(), admin.clone());
        tasks.spawn(
            async move { service::tags::add(&db, &admin, c, &format!("Tag{n}"), "x").await },
        );
    }
    while let Some(result) = tasks.join_next().await {
        result.unwrap().expect("every concurrent add succeeds");
    }
    assert_eq!(
        service::tags::section(&state.db, &admin, c)
            .await
            .unwrap()
            .tags
            .len(),
        24
    );
}

// ---- Customer Configuration ----

async fn setting(
    state: &AppState,
    admin: &StaffView,
    customer_id: i64,
    key: &str,
) -> app::model::SettingView {
    service::configuration::section(&state.db, admin, customer_id)
        .await
        .unwrap()
        .settings
        .into_iter()
        .find(|s| s.key == key)
        .unwrap_or_else(|| panic!("no setting {key}"))
}

async fn every_catalog_default_is_a_valid_value_of_its_kind(state: AppState) {
    let mut conn = state.db.pool().acquire().await.unwrap();
    let catalog = store::settings::catalog(&mut conn).await.unwrap();
    assert!(
        (20..=30).contains(&catalog.len()),
        "{} settings",
        catalog.len()
    );
    let mut kinds = std::collections::HashSet::new();
    for s in &catalog {
        assert_eq!(
            s.kind.parse(&s.default_value).as_deref(),
            Ok(s.default_value.as_str()),
            "{}",
            s.key
        );
        assert!(!s.help.is_empty() && !s.label.is_empty(), "{}", s.key);
        kinds.insert(std::mem::discriminant(&s.kind));
    }
    // Every kind of value is represented.
    assert_eq!(kinds.len(), 8);
    assert!(catalog
        .iter()
        .any(|s| matches!(s.kind, SettingKind::Decimal { percent: true, .. })));
}

async fn a_customer_follows_the_default_until_it_is_overridden(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let c = customer(&state, "Contoso", "contoso.test").await;
    let before = setting(&state, &admin, c, "billing.payment_terms_days").await;
    assert_eq!(
        (
            before.value.as_str(),
            before.source,
            before.override_version
        ),
        ("30", ValueSource::GlobalDefault, 0)
    );
    let saved = service::configuration::save_override(
        &state.db,
        &admin,
        c,
        "billing.payment_terms_days",
        " 45 ",
        0,
    )
    .await
    .unwrap();
    assert_eq!(
        (saved.value.as_str(), saved.source, saved.override_version),
        ("45", ValueSource::Overridden, 1)
    );
    assert_eq!(saved.default_value, "30");
    let reread = setting(&state, &admin, c, "billing.payment_terms_days").await;
    assert_eq!(reread, saved);
    // Another customer is untouched.
    let other = customer(&state, "Fabrikam", "fabrikam.test").await;
    assert_eq!(
        setting(&state, &admin, other, "billing.payment_terms_days")
            .await
            .value,
        "30"
    );
}

async fn override_with_an_invalid_value_is_refused_and_nothing_is_saved(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let c = customer(&state, "Contoso", "contoso.test").await;
    for (key, bad) in [
        ("commerce.seat_limit", "-2"),
        ("commerce.seat_limit", "many"),
        ("billing.markup_percent", "12.345"),
        ("billing.cycle", "weekly"),
        ("notifications.contact_email", "not-an-address"),
        ("portal.support_url", "support.partner.example"),
    ] {
        let err = service::configuration::save_override(&state.db, &admin, c, key, bad, 0)
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400, "{key}={bad}");
        assert!(err.field_message("value").is_some(), "{key}={bad}: {err:?}");
        assert_eq!(
            setting(&state, &admin, c, key).await.source,
            ValueSource::GlobalDefault
        );
    }
    let long = "x".repeat(201);
    let err = service::configuration::save_override(
        &state.db,
        &admin,
        c,
        "billing.invoice_footer",
        &long,
        0,
    )
    .await
    .unwrap_err();
    assert!(err
        .field_message("value")
        .unwrap()
        .contains("201 characters"));
    let unknown =
        service::configuration::save_override(&state.db, &admin, c, "no.such.setting", "1", 0)
            .await
            .unwrap_err();
    assert_eq!(unknown.status(), 404);
    assert!(audit_actions(&state, c).await.is_empty());
}

async fn override_revert_and_change_are_versioned_and_audited(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let c = customer(&state, "Contoso", "contoso.test").await;
    let key = "billing.cycle";
    let v1 = service::configuration::save_override(&state.db, &admin, c, key, "annual", 0)
        .await
        .unwrap();
    let v2 = service::configuration::save_override(
        &state.db,
        &admin,
        c,
        key,
        "Quarterly",
        v1.override_version,
    )
    .await
    .unwrap();
    assert_eq!((v2.value.as_str(), v2.override_version), ("quarterly", 2));
    let v3 = service::configuration::revert(&state.db, &admin, c, key, 2)
        .await
        .unwrap();
    assert_eq!(
        (v3.value.as_str(), v3.source, v3.override_version),
        ("monthly", ValueSource::GlobalDefault, 3)
    );
    // Reverting what already follows the default is refused.
    let again = service::configuration::revert(&state.db, &admin, c, key, 3)
        .await
        .unwrap_err();
    assert_eq!(again.status(), 409);
    assert_eq!(
        audit_actions(&state, c).await,
        [
            "setting.override setting billing.cycle by admin@x.test",
            "setting.change setting billing.cycle by admin@x.test",
            "setting.revert setting billing.cycle by admin@x.test",
        ]
    );
}

async fn a_stale_version_is_refused_with_the_current_value_and_who_set_it(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let other = staff(&state, "other@x.test", Role::Admin).await;
    let c = customer(&state, "Contoso", "contoso.test").await;
    let key = "billing.markup_percent";
    // Both open the page at version 0; the other saves first.
    service::configuration::save_override(&state.db, &other, c, key, "20", 0)
        .await
        .unwrap();
    let err = service::configuration::save_override(&state.db, &admin, c, key, "25", 0)
        .await
        .unwrap_err();
    assert_eq!(err.status(), 409);
    let message = err.to_string();
    assert!(
        message.contains("other@x.test") && message.contains("20.00 %"),
        "{message}"
    );
    assert_eq!(setting(&state, &admin, c, key).await.value, "20.00");
    // Retrying with the version now shown succeeds.
    let retried = service::configuration::save_override(&state.db, &admin, c, key, "25", 1)
        .await
        .unwrap();
    assert_eq!(retried.value, "25.00");
    // A stale revert is refused too.
    assert_eq!(
        service::configuration::revert(&state.db, &other, c, key, 1)
            .await
            .unwrap_err()
            .status(),
        409
    );
}

async fn a_new_override_after_a_revert_does_not_accept_the_old_version(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let c = customer(&state, "Contoso", "contoso.test").await;
    let key = "commerce.seat_limit";
    service::configuration::save_override(&state.db, &admin, c, key, "10", 0)
        .await
        .unwrap();
    service::configuration::revert(&state.db, &admin, c, key, 1)
        .await
        .unwrap();
    service::configuration::save_override(&state.db, &admin, c, key, "20", 2)
        .await
        .unwrap();
    // A page loaded when the first override (version 1) was in force must not overwrite the new one.
    let err = service::configuration::save_override(&state.db, &admin, c, key, "30", 1)
        .await
        .unwrap_err();
    assert_eq!(err.status(), 409);
    // Nor may a page loaded before any override existed.
    let err = service::configuration::save_override(&state.db, &admin, c, key, "30", 0)
        .await
        .unwrap_err();
    assert_eq!(err.status(), 409);
    assert_eq!(setting(&state, &admin, c, key).await.value, "20");
}

async fn default_change_reaches_customers_without_an_override_only(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let plain = customer(&state, "Plain", "plain.test").await;
    let custom = customer(&state, "Custom", "custom.test").await;
    let key = "notifications.renewal_reminder_days";
    service::configuration::save_override(&state.db, &admin, custom, key, "7", 0)
        .await
        .unwrap();
    let defaults = service::configuration::defaults(&state.db, &admin)
        .await
        .unwrap();
    let current = defaults.settings.iter().find(|s| s.key == key).unwrap();
    assert_eq!(current.value, "30");
    let changed =
        service::configuration::save_default(&state.db, &admin, key, "14", current.default_version)
            .await
            .unwrap();
    assert_eq!(
        (changed.value.as_str(), changed.changed_by.as_str()),
        ("14", "admin@x.test")
    );
    assert_eq!(setting(&state, &admin, plain, key).await.value, "14");
    let custom_now = setting(&state, &admin, custom, key).await;
    assert_eq!(
        (custom_now.value.as_str(), custom_now.default_value.as_str()),
        ("7", "14")
    );
    let err =
        service::configuration::save_default(&state.db, &admin, key, "91", changed.default_version)
            .await
            .unwrap_err();
    assert!(err.field_message("value").unwrap().contains("0 to 90"));
    let mut conn = state.db.pool().acquire().await.unwrap();
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'default.change' AND subject = $1",
    )
    .bind(format!("setting {key}"))
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(audited, 1);
}

async fn a_stale_default_change_is_refused(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let key = "billing.currency";
    service::configuration::save_default(&state.db, &admin, key, "EUR", 1)
        .await
        .unwrap();
    let err = service::configuration::save_default(&state.db, &admin, key, "GBP", 1)
        .await
        .unwrap_err();
    assert_eq!(err.status(), 409);
    assert!(err.to_string().contains("Euro (EUR)"), "{err}");
}

async fn history_lists_changes_and_restores_a_past_value(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let c = customer(&state, "Contoso", "contoso.test").await;
    let key = "portal.language";
    service::configuration::save_override(&state.db, &admin, c, key, "de", 0)
        .await
        .unwrap();
    service::configuration::save_override(&state.db, &admin, c, key, "fr", 1)
        .await
        .unwrap();
    service::configuration::revert(&state.db, &admin, c, key, 2)
        .await
        .unwrap();
    let history = service::configuration::history(&state.db, &admin, c, key)
        .await
        .unwrap();
    let lines: Vec<String> = history
        .entries
        .iter()
        .map(|e| format!("{}: {} -> {}", e.action, e.before, e.after))
        .collect();
    assert_eq!(
        lines,
        [
            "Reverted to the global default: Français -> global default",
            "Changed: Deutsch -> Français",
            "Overridden: global default -> Deutsch",
        ]
    );
    assert_eq!(
        history
            .entries
            .iter()
            .map(|e| e.restorable)
            .collect::<Vec<_>>(),
        [false, true, true]
    );
    let deutsch = history.entries[2].id;
    // Restoring is version-checked like any change.
    let stale = service::configuration::restore(&state.db, &admin, c, key, deutsch, 2)
        .await
        .unwrap_err();
    assert_eq!(stale.status(), 409);
    let restored = service::configuration::restore(&state.db, &admin, c, key, deutsch, 3)
        .await
        .unwrap();
    assert_eq!(
        (restored.value.as_str(), restored.source),
        ("de", ValueSource::Overridden)
    );
    let history = service::configuration::history(&state.db, &admin, c, key)
        .await
        .unwrap();
    assert_eq!(history.entries[0].action, "Restored a past value");
    // An entry of another customer cannot be restored here.
    let other = customer(&state, "Fabrikam", "fabrikam.test").await;
    let err = service::configuration::restore(&state.db, &admin, other, key, deutsch, 0)
        .await
        .unwrap_err();
    assert_eq!(err.status(), 404);
}

async fn matrix_lists_overrides_by_setting_category_and_tag(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let north = customer(&state, "North Co", "north.test").await;
    let south = customer(&state, "South Co", "south.test").await;
    tag(&state, &admin, north, "Region", "North").await;
    tag(&state, &admin, south, "Region", "South").await;
    service::configuration::save_override(&state.db, &admin, north, "billing.cycle", "annual", 0)
        .await
        .unwrap();
    service::configuration::save_override(
        &state.db,
        &admin,
        south,
        "billing.cycle",
        "quarterly",
        0,
    )
    .await
    .unwrap();
    service::configuration::save_override(&state.db, &admin, south, "portal.language", "nl", 0)
        .await
        .unwrap();
    // A reverted override is not in force and not listed.
    service::configuration::save_override(&state.db, &admin, north, "commerce.seat_limit", "5", 0)
        .await
        .unwrap();
    service::configuration::revert(&state.db, &admin, north, "commerce.seat_limit", 1)
        .await
        .unwrap();
    let rows = |q: MatrixQuery| {
        let state = state.clone();
        let admin = admin.clone();
        async move {
            service::configuration::matrix(&state.db, &admin, &q)
                .await
                .unwrap()
                .rows
                .into_iter()
                .map(|r| format!("{} {}={}", r.customer_name, r.setting_key, r.value_display))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        rows(MatrixQuery::default()).await,
        [
            "North Co billing.cycle=Annual",
            "South Co billing.cycle=Quarterly",
            "South Co portal.language=Nederlands"
        ]
    );
    let by_setting = MatrixQuery {
        setting_key: "portal.language".into(),
        ..Default::default()
    };
    assert_eq!(
        rows(by_setting).await,
        ["South Co portal.language=Nederlands"]
    );
    let by_category = MatrixQuery {
        category: "Billing".into(),
        ..Default::default()
    };
    assert_eq!(rows(by_category).await.len(), 2);
    let by_tag = MatrixQuery {
        tag: "region=North".into(),
        ..Default::default()
    };
    assert_eq!(rows(by_tag).await, ["North Co billing.cycle=Annual"]);
    let bad_tag = MatrixQuery {
        tag: "North".into(),
        ..Default::default()
    };
    let err = service::configuration::matrix(&state.db, &admin, &bad_tag)
        .await
        .unwrap_err();
    assert!(err.field_message("tag").is_some());
}

async fn bulk_revert_is_all_or_nothing(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let a = customer(&state, "A Co", "a.test").await;
    let b = customer(&state, "B Co", "b.test").await;
    let key = "billing.tax_exempt";
    service::configuration::save_override(&state.db, &admin, a, key, "true", 0)
        .await
        .unwrap();
    service::configuration::save_override(&state.db, &admin, b, key, "true", 0)
        .await
        .unwrap();
    let item = |customer_id, version| RevertItem {
        customer_id,
        setting_key: key.into(),
        version,
    };
    // B's version is stale: nothing is reverted, A included.
    let err = service::configuration::bulk_revert(&state.db, &admin, &[item(a, 1), item(b, 7)])
        .await
        .unwrap_err();
    assert_eq!(err.status(), 409);
    assert!(err.to_string().contains("Nothing was reverted"), "{err}");
    assert_eq!(
        setting(&state, &admin, a, key).await.source,
        ValueSource::Overridden
    );
    let reverted =
        service::configuration::bulk_revert(&state.db, &admin, &[item(a, 1), item(b, 1)])
            .await
            .unwrap();
    assert_eq!(reverted, 2);
    for c in [a, b] {
        assert_eq!(
            setting(&state, &admin, c, key).await.source,
            ValueSource::GlobalDefault
        );
        assert_eq!(
            audit_actions(&state, c).await.last().unwrap(),
            "setting.bulk_revert setting billing.tax_exempt by admin@x.test"
        );
    }
    let none = service::configuration::bulk_revert(&state.db, &admin, &[])
        .await
        .unwrap_err();
    assert_eq!(none.status(), 400);
}

/// An admin, a Help Desk member who sees Region=North, and a customer of each region:
/// (admin, helpdesk, north, south).
async fn north_and_south(state: &AppState) -> (StaffView, StaffView, i64, i64) {
    let admin = staff(state, "admin@x.test", Role::Admin).await;
    let helpdesk = staff(state, "help@x.test", Role::Helpdesk).await;
    let mut conn = state.db.pool().acquire().await.unwrap();
    store::staff::add_tag_scope(&mut conn, helpdesk.id, "region", "North")
        .await
        .unwrap();
    drop(conn);
    let north = customer(state, "North Co", "north.test").await;
    let south = customer(state, "South Co", "south.test").await;
    tag(state, &admin, north, "Region", "North").await;
    tag(state, &admin, south, "Region", "South").await;
    (admin, helpdesk, north, south)
}

async fn the_matrix_and_bulk_revert_keep_to_a_scoped_staff_members_customers(state: AppState) {
    // The endpoints are admin's and reader's; the services apply the tag scope all the same,
    // so no future role or caller can reach past it.
    let (admin, helpdesk, north, south) = north_and_south(&state).await;
    for id in [north, south] {
        service::configuration::save_override(&state.db, &admin, id, "portal.language", "ja", 0)
            .await
            .unwrap();
    }
    let seen = |staff: StaffView| {
        let db = state.db.clone();
        async move {
            service::configuration::matrix(&db, &staff, &MatrixQuery::default())
                .await
                .unwrap()
                .rows
                .into_iter()
                .map(|r| r.customer_name)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(seen(admin.clone()).await, ["North Co", "South Co"]);
    assert_eq!(seen(helpdesk.clone()).await, ["North Co"]);
    let hidden = RevertItem {
        customer_id: south,
        setting_key: "portal.language".into(),
        version: 1,
    };
    let refused = service::configuration::bulk_revert(&state.db, &helpdesk, &[hidden])
        .await
        .unwrap_err();
    assert_eq!(refused, AppError::not_found("The customer"));
    assert_eq!(
        setting(&state, &admin, south, "portal.language")
            .await
            .source,
        ValueSource::Overridden
    );
}

async fn helpdesk_edits_configuration_only_within_their_tags(state: AppState) {
    let (admin, helpdesk, north, south) = north_and_south(&state).await;
    let ok = service::configuration::save_override(
        &state.db,
        &helpdesk,
        north,
        "portal.language",
        "ja",
        0,
    )
    .await;
    assert!(ok.is_ok(), "{ok:?}");
    let refused = service::configuration::save_override(
        &state.db,
        &helpdesk,
        south,
        "portal.language",
        "ja",
        0,
    )
    .await
    .unwrap_err();
    assert_eq!(refused, AppError::not_found("The customer"));
    assert_eq!(
        setting(&state, &admin, south, "portal.language")
            .await
            .source,
        ValueSource::GlobalDefault
    );
}

async fn effective_configuration_covers_a_large_catalog_with_overrides_applied(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let c = customer(&state, "Contoso", "contoso.test").await;
    service::configuration::save_override(&state.db, &admin, c, "billing.cycle", "annual", 0)
        .await
        .unwrap();
    // The catalog grows; every setting resolves, the override wins, the rest follow the default.
    let mut conn = state.db.pool().acquire().await.unwrap();
    for i in 0..200 {
        sqlx::query("INSERT INTO settings (key, position, category, label, help, kind_json, default_value) VALUES ($1, $2, 'Extra', $1, 'help', '{\"type\":\"boolean\"}', 'false')")
            .bind(format!("extra.s{i:03}"))
            .bind(1000 + i as i64)
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    let all = service::configuration::effective_all(&mut conn, c)
        .await
        .unwrap();
    assert_eq!(all.len(), 225);
    let cycle = all.iter().find(|s| s.key == "billing.cycle").unwrap();
    assert_eq!(
        (cycle.value.as_str(), cycle.source),
        ("annual", ValueSource::Overridden)
    );
    assert!(all
        .iter()
        .filter(|s| s.key.starts_with("extra."))
        .all(|s| s.source == ValueSource::GlobalDefault));
}

// ---- Reload Reconciliation ----

/// A stand-in for Partner Center: counts fetches per tenant, fails the tenants it is told to,
/// and can hold every fetch after the first `pass` ones until it is dropped.
#[derive(Clone, Default)]
struct FakeSource {
    fetched: Arc<Mutex<HashMap<String, u32>>>,
    failing: Arc<Vec<String>>,
    /// Tenants whose licence call fails (their profile and subscriptions are read).
    licences_failing: Arc<Vec<String>>,
    /// Whether licence counts are left out as without delegated consent.
    app_only: bool,
    /// Profiles the sync passed in from the directory, by tenant.
    known: Arc<Mutex<Vec<String>>>,
    hold_after: Option<(usize, Arc<tokio::sync::Notify>)>,
    version: i64,
}

impl FakeSource {
    fn fetched(&self) -> HashMap<String, u32> {
        self.fetched.lock().unwrap().clone()
    }
}

fn subscription(n: i64, quantity: i64) -> Subscription {
    Subscription {
        id: format!("5ab5c0de-0000-4000-8000-{n:012}"),
        offer_id: format!("offer-{n}"),
        offer_name: format!("Offer {n}"),
        friendly_name: String::new(),
        quantity,
        unit_type: "Licenses".into(),
        creation_date: String::new(),
        effective_start_date: String::new(),
        commitment_end_date: String::new(),
        status: "active".into(),
        auto_renew_enabled: true,
        billing_type: "license".into(),
        billing_cycle: "monthly".into(),
        term_duration: "P1M".into(),
        is_trial: false,
        order_id: String::new(),
        attributes: Attributes::of("Subscription"),
    }
}

impl TenantSource for FakeSource {
    async fn fetch(
        &self,
        tenant_id: &str,
        known: Option<Customer>,
    ) -> Result<TenantData, PartnerCenterError> {
        if known.is_some() {
            self.known.lock().unwrap().push(tenant_id.to_owned());
        }
        let count = {
            let mut fetched = self.fetched.lock().unwrap();
            *fetched.entry(tenant_id.to_owned()).or_default() += 1;
            fetched.values().map(|n| *n as usize).sum::<usize>()
        };
        if let Some((pass, gate)) = &self.hold_after {
            if count > *pass {
                gate.notified().await;
            }
        }
        if self.failing.iter().any(|t| t == tenant_id) {
            return Err(PartnerCenterError::Server {
                status: 500,
                description: "simulated outage".into(),
            });
        }
        let mut data = TenantData {
            profile: Customer {
                id: tenant_id.to_owned(),
                commerce_id: String::new(),
                company_profile: CompanyProfile {
                    tenant_id: tenant_id.to_owned(),
                    domain: format!("{tenant_id}.onmicrosoft.com"),
                    company_name: format!("Tenant {tenant_id}"),
                },
                billing_profile: Default::default(),
                relationship_to_partner: "reseller".into(),
                allow_delegated_access: true,
                attributes: Attributes::of("Customer"),
            },
            subscriptions: Ok(vec![subscription(1, 10 + self.version), subscription(2, 3)]),
            licences: if self.app_only {
                Licences::NeedsConsent
            } else if self.licences_failing.iter().any(|t| t == tenant_id) {
                Licences::Failed(
                    "Partner Center refused the request (403): App+User required".into(),
                )
            } else {
                Licences::Counted(vec![SubscribedSku {
                    total_units: 10,
                    active_units: 10,
                    consumed_units: 12,
                    available_units: -2,
                    suspended_units: 0,
                    warning_units: 0,
                    capability_status: "Enabled".into(),
                    product_sku: ProductSku {
                        id: "sku-1".into(),
                        name: "Microsoft 365 Business Standard".into(),
                        sku_part_number: "O365_BUSINESS_PREMIUM".into(),
                        target_type: "User".into(),
                        license_group_id: String::new(),
                    },
                    attributes: Attributes::of("SubscribedSku"),
                }])
            },
        };
        // A profile from the directory stands for the profile call.
        if let Some(profile) = known {
            data.profile = profile;
        }
        Ok(data)
    }
}

/// `count` customers with one tenant each (tenant id `t-<n>`).
async fn customers_with_tenants(state: &AppState, count: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    for n in 0..count {
        let id = customer(state, &format!("Customer {n:03}"), &format!("c{n}.test")).await;
        let mut conn = state.db.pool().acquire().await.unwrap();
        store::customers::insert_tenant(
            &mut conn,
            id,
            &format!("t-{n}"),
            &format!("Tenant {n}"),
            "x.test",
            0,
        )
        .await
        .unwrap();
        ids.push(id);
    }
    ids
}

async fn a_sync_replaces_each_tenant_snapshot_and_records_the_status(state: AppState) {
    let ids = customers_with_tenants(&state, 1).await;
    let first = FakeSource::default();
    let status = service::sync::sync_customer(&state.db, &first, ids[0])
        .await
        .unwrap();
    assert_eq!((status.outcome.as_str(), status.error), ("ok", None));
    let second = FakeSource {
        version: 5,
        ..Default::default()
    };
    service::sync::sync_customer(&state.db, &second, ids[0])
        .await
        .unwrap();
    let mut conn = state.db.pool().acquire().await.unwrap();
    // Replaced, not added to: the same counts, the new values.
    assert_eq!(
        store::sync::snapshot_counts(&mut conn, "t-0")
            .await
            .unwrap(),
        (2, 1)
    );
    let quantity: i64 = sqlx::query_scalar("SELECT quantity FROM tenant_subscriptions WHERE tenant_id = 't-0' AND subscription_id = '5ab5c0de-0000-4000-8000-000000000001'")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(quantity, 15);
    let row = store::sync::status(&mut conn, ids[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.outcome, "ok");
    let tenants = store::sync::tenants_with_snapshot(&mut conn, ids[0])
        .await
        .unwrap();
    assert!(tenants[0].3.is_some(), "the tenant's last sync is known");
}

async fn a_failing_customer_is_recorded_and_the_others_succeed(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let ids = customers_with_tenants(&state, 5).await;
    let source = FakeSource {
        failing: Arc::new(vec!["t-2".into()]),
        ..Default::default()
    };
    let (job_id, started) = service::sync::start_all(&state.db, &admin, &state.sync_wakeup)
        .await
        .unwrap();
    assert!(started);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(service::sync::run_worker(
        state.db.clone(),
        source.clone(),
        state.sync_wakeup.clone(),
        stop_rx,
        2,
        Default::default(),
    ));
    let job = wait_for_job_end(&state, job_id).await;
    stop_tx.send(true).unwrap();
    worker.await.unwrap();
    assert_eq!(
        (job.done, job.failed, job.pending, job.running),
        (4, 1, 0, 0)
    );
    let mut conn = state.db.pool().acquire().await.unwrap();
    let failures = store::sync::failed_items(&mut conn, job_id, 10)
        .await
        .unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].0, "Customer 002");
    assert!(failures[0].1.contains("simulated outage"), "{failures:?}");
    let failed = store::sync::status(&mut conn, ids[2])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(failed.outcome, "failed");
    let outcomes: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_log WHERE action LIKE 'sync.%' ORDER BY id")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    assert_eq!(outcomes, ["sync.reload_all", "sync.job_finished"]);
}

async fn two_requests_for_all_customers_make_one_job(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    customers_with_tenants(&state, 3).await;
    let (a, b) = tokio::join!(
        service::sync::start_all(&state.db, &admin, &state.sync_wakeup),
        service::sync::start_all(&state.db, &admin, &state.sync_wakeup),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.0, b.0, "the second joined the first");
    assert!(a.1 != b.1, "exactly one started it");
    let mut conn = state.db.pool().acquire().await.unwrap();
    let jobs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sync_jobs")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    let items: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sync_job_items")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!((jobs, items), (1, 3));
}

async fn a_stopped_job_resumes_without_fetching_finished_customers_again(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let ids = customers_with_tenants(&state, 12).await;
    let (job_id, _) = service::sync::start_all(&state.db, &admin, &state.sync_wakeup)
        .await
        .unwrap();

    // The first run gets through five fetches, then everything it starts hangs until stopped.
    let gate = Arc::new(tokio::sync::Notify::new());
    let first = FakeSource {
        hold_after: Some((5, gate.clone())),
        ..Default::default()
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(service::sync::run_worker(
        state.db.clone(),
        first.clone(),
        state.sync_wakeup.clone(),
        stop_rx,
        3,
        Default::default(),
    ));
    let done_before = wait_until_done_at_least(&state, job_id, 5).await;
    stop_tx.send(true).unwrap();
    worker.await.unwrap();
    let mut conn = state.db.pool().acquire().await.unwrap();
    let finished: Vec<i64> = sqlx::query_scalar("SELECT customer_id FROM sync_job_items WHERE job_id = $1 AND state = 'done' ORDER BY customer_id")
        .bind(job_id)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    assert_eq!(finished.len() as i64, done_before);
    assert!(finished.len() < ids.len(), "stopped midway");

    // The restarted worker fetches each remaining customer once, and none of the finished ones.
    let second = FakeSource::default();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(service::sync::run_worker(
        state.db.clone(),
        second.clone(),
        state.sync_wakeup.clone(),
        stop_rx,
        3,
        Default::default(),
    ));
    let job = wait_for_job_end(&state, job_id).await;
    stop_tx.send(true).unwrap();
    worker.await.unwrap();
    assert_eq!((job.done, job.failed), (12, 0));
    let fetched = second.fetched();
    for (n, id) in ids.iter().enumerate() {
        let expected = u32::from(!finished.contains(id));
        assert_eq!(
            fetched.get(&format!("t-{n}")).copied().unwrap_or(0),
            expected,
            "customer {n}"
        );
    }
    let mut conn = state.db.pool().acquire().await.unwrap();
    for n in 0..12 {
        assert_eq!(
            store::sync::snapshot_counts(&mut conn, &format!("t-{n}"))
                .await
                .unwrap(),
            (2, 1),
            "no duplicate rows"
        );
    }
}
/// Polls the job until `reached` holds, and returns it. Bounded at 30 s: a stopped worker that
/// could not deregister (a busy database under a loaded machine) has its claims taken over only
/// once it is stale (10 s without a heartbeat), which is the design, not a failure.
async fn wait_for_job(
    state: &AppState,
    job_id: i64,
    what: &str,
    reached: impl Fn(&store::sync::JobRow) -> bool,
) -> store::sync::JobRow {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        let mut conn = state.db.pool().acquire().await.unwrap();
        let job = store::sync::latest_all_job(&mut conn)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(job.id, job_id);
        if reached(&job) {
            return job;
        }
        drop(conn);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("job {job_id} did not {what} within 30 s");
}

async fn wait_for_job_end(state: &AppState, job_id: i64) -> store::sync::JobRow {
    wait_for_job(state, job_id, "finish", |job| job.state == "finished").await
}

async fn wait_until_done_at_least(state: &AppState, job_id: i64, n: i64) -> i64 {
    wait_for_job(state, job_id, "reach its done count", |job| job.done >= n)
        .await
        .done
}

async fn concurrent_claims_never_exceed_their_limit_and_are_disjoint(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    customers_with_tenants(&state, 30).await;
    service::sync::start_all(&state.db, &admin, &state.sync_wakeup)
        .await
        .unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..6 {
        let db = state.db.clone();
        tasks.spawn(async move {
            let mut conn = db.pool().acquire().await.unwrap();
            store::sync::claim(&mut conn, db.backend(), &format!("worker-{n}"), 4)
                .await
                .unwrap()
        });
    }
    let mut all = Vec::new();
    while let Some(claimed) = tasks.join_next().await {
        let claimed = claimed.unwrap();
        assert!(
            claimed.len() <= 4,
            "claimed {} with a limit of 4",
            claimed.len()
        );
        all.extend(claimed);
    }
    let distinct: std::collections::HashSet<_> = all.iter().copied().collect();
    assert_eq!(distinct.len(), all.len(), "no item claimed twice");
    assert_eq!(all.len(), 24);
}

async fn a_customer_that_stops_every_worker_is_retried_later_then_given_up(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    customers_with_tenants(&state, 1).await;
    let (job_id, _) = service::sync::start_all(&state.db, &admin, &state.sync_wakeup)
        .await
        .unwrap();
    let backend = state.db.backend();
    let mut conn = state.db.pool().acquire().await.unwrap();
    let max = service::sync::MAX_ITEM_ATTEMPTS;
    // Each claim is made by a worker that dies at once (it never sends a heartbeat).
    for attempt in 1..=max {
        let claimed = store::sync::claim(&mut conn, backend, &format!("dies-{attempt}"), 1)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1, "attempt {attempt}");
        let released = store::sync::release_orphaned(&mut conn, backend, 10_000, 0, max)
            .await
            .unwrap();
        let expected = if attempt < max {
            store::sync::Released {
                retried: 1,
                given_up: 0,
            }
        } else {
            store::sync::Released {
                retried: 0,
                given_up: 1,
            }
        };
        assert_eq!(released, expected, "attempt {attempt}");
    }
    let (state_, error): (String, String) =
        sqlx::query_as("SELECT state, error FROM sync_job_items WHERE job_id = $1")
            .bind(job_id)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    assert_eq!(state_, "failed");
    assert!(
        error.starts_with(&format!("Gave up after {max} attempts")),
        "{error}"
    );
    let workers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sync_workers")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(workers, 0, "dead workers' rows are removed");

    // With a retry delay, an item released after its second attempt is not due at once.
    let (job2, _) = {
        sqlx::query("UPDATE sync_jobs SET state = 'finished'")
            .execute(&mut *conn)
            .await
            .unwrap();
        drop(conn);
        service::sync::start_all(&state.db, &admin, &state.sync_wakeup)
            .await
            .unwrap()
    };
    let mut conn = state.db.pool().acquire().await.unwrap();
    for attempt in 1..=2 {
        assert_eq!(
            store::sync::claim(&mut conn, backend, "dies", 1)
                .await
                .unwrap(),
            [(job2, customers_of_job(&mut conn, job2).await[0])],
            "attempt {attempt} is due"
        );
        sqlx::query("DELETE FROM sync_workers")
            .execute(&mut *conn)
            .await
            .unwrap();
        store::sync::release_orphaned(&mut conn, backend, 10_000, 60_000, max)
            .await
            .unwrap();
    }
    assert!(
        store::sync::claim(&mut conn, backend, "dies", 1)
            .await
            .unwrap()
            .is_empty(),
        "after two attempts the item waits a minute"
    );
}

async fn customers_of_job(conn: &mut sqlx::AnyConnection, job_id: i64) -> Vec<i64> {
    sqlx::query_scalar(
        "SELECT customer_id FROM sync_job_items WHERE job_id = $1 ORDER BY customer_id",
    )
    .bind(job_id)
    .fetch_all(conn)
    .await
    .unwrap()
}

async fn a_live_worker_takes_over_the_claims_of_a_silent_one_and_forgets_it(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let ids = customers_with_tenants(&state, 4).await;
    let (job_id, _) = service::sync::start_all(&state.db, &admin, &state.sync_wakeup)
        .await
        .unwrap();
    // A worker of another process claimed two customers, then was heard from no more.
    let mut conn = state.db.pool().acquire().await.unwrap();
    let claimed = store::sync::claim(&mut conn, state.db.backend(), "worker-silent", 2)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    sqlx::query("INSERT INTO sync_workers (id, heartbeat_at) VALUES ('worker-silent', 0)")
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    let source = FakeSource::default();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(service::sync::run_worker(
        state.db.clone(),
        source.clone(),
        state.sync_wakeup.clone(),
        stop_rx,
        2,
        Default::default(),
    ));
    let job = wait_for_job_end(&state, job_id).await;
    stop_tx.send(true).unwrap();
    worker.await.unwrap();
    assert_eq!((job.done, job.failed), (ids.len() as i64, 0));
    assert!(
        source.fetched().values().all(|n| *n == 1),
        "{:?}",
        source.fetched()
    );
    let silent: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sync_workers WHERE id = 'worker-silent'")
            .fetch_one(state.db.pool())
            .await
            .unwrap();
    assert_eq!(silent, 0);
}

/// Makes the database refuse the worker's writes until [`Outage::end`]: on SQLite another
/// connection holds the write lock; on PostgreSQL the database takes no connections and the
/// open ones are terminated.
enum Outage {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Any>),
    Postgres(sqlx::AnyPool, String),
}

impl Outage {
    async fn start(state: &AppState) -> Outage {
        match state.db.backend() {
            Backend::Sqlite => {
                let mut conn = state.db.pool().acquire().await.unwrap();
                sqlx::query("BEGIN IMMEDIATE")
                    .execute(&mut *conn)
                    .await
                    .unwrap();
                Outage::Sqlite(conn)
            }
            Backend::Postgres => {
                let name: String = sqlx::query_scalar("SELECT CAST(current_database() AS TEXT)")
                    .fetch_one(state.db.pool())
                    .await
                    .unwrap();
                let admin = sqlx::AnyPool::connect(&postgres_admin_url()).await.unwrap();
                for sql in [
                    format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"),
                    format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"),
                ] {
                    sqlx::query(&sql).execute(&admin).await.unwrap();
                }
                Outage::Postgres(admin, name)
            }
        }
    }

    async fn end(self) {
        match self {
            Outage::Sqlite(mut conn) => {
                sqlx::query("COMMIT").execute(&mut *conn).await.unwrap();
            }
            Outage::Postgres(admin, name) => {
                sqlx::query(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
                    .execute(&admin)
                    .await
                    .unwrap();
            }
        }
    }
}

async fn the_sync_worker_survives_a_database_outage_and_finishes_the_job(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let ids = customers_with_tenants(&state, 2).await;
    let (job_id, _) = service::sync::start_all(&state.db, &admin, &state.sync_wakeup)
        .await
        .unwrap();
    // Every fetch waits for the gate, so the job is mid-way when the database goes.
    let gate = Arc::new(tokio::sync::Notify::new());
    let source = FakeSource {
        hold_after: Some((0, gate.clone())),
        ..Default::default()
    };
    let health = Arc::new(service::sync::WorkerHealth::default());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(service::sync::run_worker(
        state.db.clone(),
        source.clone(),
        state.sync_wakeup.clone(),
        stop_rx,
        2,
        health.clone(),
    ));
    wait_for_job(&state, job_id, "claim both items", |job| job.running == 2).await;

    let outage = Outage::start(&state).await;
    let mut waited = 0;
    while health.errors() == 0 {
        assert!(
            waited < 1_200,
            "the worker met no error within 60 s of the outage"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    assert_eq!(health.state(now_millis()).0, "retrying");
    outage.end().await;

    // The fetches go on; the worker, still alive, records them and closes the job.
    let mut rounds = 0;
    let job = loop {
        gate.notify_waiters();
        let job = store::sync::latest_all_job(&mut state.db.pool().acquire().await.unwrap())
            .await
            .unwrap()
            .unwrap();
        if job.state == "finished" {
            break job;
        }
        assert!(
            rounds < 1_200,
            "the job did not finish within 60 s of the outage's end"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        rounds += 1;
    };
    assert_eq!((job.done, job.failed), (ids.len() as i64, 0));
    assert!(health.errors() >= 1);
    stop_tx.send(true).unwrap();
    worker.await.unwrap();
}

async fn two_workers_on_one_database_sync_each_customer_once(state: AppState) {
    // As two `portal serve` processes sharing a database: two workers, their own sources.
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    customers_with_tenants(&state, 40).await;
    let (job_id, _) = service::sync::start_all(&state.db, &admin, &state.sync_wakeup)
        .await
        .unwrap();
    let (a, b) = (FakeSource::default(), FakeSource::default());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let workers = [a.clone(), b.clone()].map(|source| {
        tokio::spawn(service::sync::run_worker(
            state.db.clone(),
            source,
            Arc::new(tokio::sync::Notify::new()),
            stop_rx.clone(),
            4,
            Default::default(),
        ))
    });
    let job = wait_for_job_end(&state, job_id).await;
    stop_tx.send(true).unwrap();
    for worker in workers {
        worker.await.unwrap();
    }
    assert_eq!(job.done, 40);
    let (a, b) = (a.fetched(), b.fetched());
    for n in 0..40 {
        let tenant = format!("t-{n}");
        let total = a.get(&tenant).copied().unwrap_or(0) + b.get(&tenant).copied().unwrap_or(0);
        assert_eq!(total, 1, "{tenant} fetched {total} times");
    }
}

/// A client that is never called (the tests' sources stand in for Partner Center): its
/// presence says reconciliation is configured.
fn configured(mut state: AppState) -> AppState {
    use app::ssr::partner_center::{PartnerCenterClient, PartnerCenterConfig, Secret};
    let config = PartnerCenterConfig::new(
        "http://127.0.0.1:9",
        "http://127.0.0.1:9",
        "id",
        Secret::default(),
    );
    state.partner_center = Some(PartnerCenterClient::new(config).unwrap());
    state
}

async fn reloading_one_customer_is_audited_and_refused_outside_a_help_desk_scope(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let helpdesk = staff(&state, "help@x.test", Role::Helpdesk).await;
    let mut conn = state.db.pool().acquire().await.unwrap();
    store::staff::add_tag_scope(&mut conn, helpdesk.id, "region", "North")
        .await
        .unwrap();
    drop(conn);
    let ids = customers_with_tenants(&state, 2).await;
    tag(&state, &admin, ids[0], "Region", "North").await;
    tag(&state, &admin, ids[1], "Region", "South").await;

    // Not configured: refused, but only after the visibility check.
    let hidden = service::sync::reload_customer(&state, &helpdesk, ids[1])
        .await
        .unwrap_err();
    assert_eq!(hidden, AppError::not_found("The customer"));
    let off = service::sync::reload_customer(&state, &helpdesk, ids[0])
        .await
        .unwrap_err();
    assert_eq!(off.status(), 409);

    let state = configured(state);
    let (job_id, started) = service::sync::reload_customer(&state, &helpdesk, ids[0])
        .await
        .unwrap();
    assert!(started);
    // A second request joins the queued reload.
    assert_eq!(
        service::sync::reload_customer(&state, &admin, ids[0])
            .await
            .unwrap(),
        (job_id, false)
    );
    let section = service::sync::tenants_section(&state.db, &helpdesk, ids[0])
        .await
        .unwrap();
    assert!(section.reload_queued);
    let refused = service::sync::reload_customer(&state, &helpdesk, ids[1])
        .await
        .unwrap_err();
    assert_eq!(refused, AppError::not_found("The customer"));

    let source = FakeSource::default();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(service::sync::run_worker(
        state.db.clone(),
        source.clone(),
        state.sync_wakeup.clone(),
        stop_rx,
        2,
        Default::default(),
    ));
    let mut waited = 0;
    let section = loop {
        let section = service::sync::tenants_section(&state.db, &helpdesk, ids[0])
            .await
            .unwrap();
        if !section.reload_queued {
            break section;
        }
        assert!(waited < 400, "the reload did not finish within 10 s");
        tokio::time::sleep(Duration::from_millis(25)).await;
        waited += 1;
    };
    stop_tx.send(true).unwrap();
    worker.await.unwrap();
    assert_eq!(section.status.unwrap().badge, app::model::SyncBadge::Ok);
    assert_eq!(
        source.fetched().len(),
        1,
        "only the reloaded customer was fetched: {:?}",
        source.fetched()
    );
    assert_eq!(
        audit_actions(&state, ids[0]).await[1..],
        [
            "sync.reload_customer reconciliation by help@x.test",
            "sync.reload_customer_joined reconciliation by admin@x.test",
        ]
    );
}

async fn one_staff_member_may_start_only_so_many_reloads_a_minute(state: AppState) {
    let state = configured(state);
    let finance = staff(&state, "finance@x.test", Role::Finance).await;
    let other = staff(&state, "other@x.test", Role::Finance).await;
    let limit = service::sync::RELOADS_PER_MINUTE as usize;
    let ids = customers_with_tenants(&state, limit + 2).await;
    for id in &ids[..limit] {
        service::sync::reload_customer(&state, &finance, *id)
            .await
            .unwrap();
    }
    // Joining a queued reload costs nothing.
    assert!(
        !service::sync::reload_customer(&state, &finance, ids[0])
            .await
            .unwrap()
            .1
    );
    let refused = service::sync::reload_customer(&state, &finance, ids[limit])
        .await
        .unwrap_err();
    assert_eq!(refused.status(), 429, "{refused}");
    let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sync_jobs WHERE state = 'running'")
        .fetch_one(state.db.pool())
        .await
        .unwrap();
    assert_eq!(queued as usize, limit, "the refused reload was not queued");
    // Another staff member has their own allowance.
    service::sync::reload_customer(&state, &other, ids[limit])
        .await
        .unwrap();
}

fn listed(tenant_id: &str, name: &str, domain: &str) -> app::ssr::service::provider::ListedTenant {
    app::ssr::service::provider::ListedTenant {
        tenant_id: tenant_id.into(),
        company_name: name.into(),
        domain: domain.into(),
        relationship: "reseller".into(),
    }
}

async fn provider_directory_refresh_adds_renames_marks_gone_and_brings_back(state: AppState) {
    use app::ssr::{
        service::provider::{apply, Actor},
        store::provider::RefreshCounts,
    };
    let (a, b, c) = (
        listed(
            "aaaaaaaa-0000-4000-8000-000000000001",
            "Alpha Ltd",
            "alpha.onmicrosoft.com",
        ),
        listed(
            "bbbbbbbb-0000-4000-8000-000000000002",
            "Beta",
            "beta.onmicrosoft.com",
        ),
        listed(
            "cccccccc-0000-4000-8000-000000000003",
            "Gamma",
            "gamma.onmicrosoft.com",
        ),
    );
    let first = apply(
        &state.db,
        &[a.clone(), b.clone(), c.clone(), a.clone()],
        Actor::System("command line"),
        1_000,
    )
    .await
    .unwrap();
    assert_eq!(
        first,
        RefreshCounts {
            listed: 3,
            added: 3,
            ..Default::default()
        },
        "a tenant listed twice across pages counts once"
    );

    let renamed = listed(&a.tenant_id, "Alpha Limited", "alpha.onmicrosoft.com");
    let second = apply(
        &state.db,
        &[renamed, c.clone()],
        Actor::System("command line"),
        2_000,
    )
    .await
    .unwrap();
    assert_eq!(
        second,
        RefreshCounts {
            listed: 2,
            renamed: 1,
            gone: 1,
            ..Default::default()
        }
    );
    let mut conn = state.db.pool().acquire().await.unwrap();
    let rows = store::provider::all(&mut conn).await.unwrap();
    assert_eq!(rows.len(), 3, "a tenant no longer listed is kept");
    let beta = rows.iter().find(|r| r.tenant_id == b.tenant_id).unwrap();
    assert_eq!(beta.gone_since, Some(2_000));
    assert_eq!(beta.first_seen_at, 1_000);
    let alpha = rows.iter().find(|r| r.tenant_id == a.tenant_id).unwrap();
    assert_eq!(
        (alpha.company_name.as_str(), alpha.last_seen_at),
        ("Alpha Limited", 2_000)
    );

    let third = apply(
        &state.db,
        &[a, b.clone(), c],
        Actor::System("command line"),
        3_000,
    )
    .await
    .unwrap();
    assert_eq!(
        third,
        RefreshCounts {
            listed: 3,
            renamed: 1,
            returned: 1,
            ..Default::default()
        }
    );
    let rows = store::provider::all(&mut conn).await.unwrap();
    assert!(
        rows.iter().all(|r| r.gone_since.is_none()),
        "a returned tenant is no longer gone"
    );
    assert_eq!(
        store::provider::last_refresh(&mut conn).await.unwrap(),
        Some(3_000)
    );
    let refreshes: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'provider.refresh'")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    assert_eq!(refreshes, 3, "every refresh is audited with its counts");
}

const T1: &str = "11111111-0000-4000-8000-000000000001";
const T2: &str = "22222222-0000-4000-8000-000000000002";
const T3: &str = "33333333-0000-4000-8000-000000000003";

/// A directory of the given (tenant id, company name, domain), taken at time 1,000.
async fn directory(state: &AppState, tenants: &[(&str, &str, &str)]) {
    let listed: Vec<_> = tenants
        .iter()
        .map(|(id, name, domain)| listed(id, name, domain))
        .collect();
    app::ssr::service::provider::apply(
        &state.db,
        &listed,
        app::ssr::service::provider::Actor::System("test"),
        1_000,
    )
    .await
    .unwrap();
}

fn ticked(ids: &[&str]) -> app::ssr::service::provider::Selection {
    app::ssr::service::provider::Selection::Tenants(ids.iter().map(|s| s.to_string()).collect())
}

async fn linked_tenants(state: &AppState, customer_id: i64) -> Vec<String> {
    let mut conn = state.db.pool().acquire().await.unwrap();
    store::customers::tenants(&mut conn, customer_id)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.tenant_id)
        .collect()
}

async fn a_tenant_is_linked_unlinked_and_linked_again_with_audit(state: AppState) {
    use app::ssr::service::provider::{link, unlink, Actor, LinkTarget};
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    directory(&state, &[(T1, "Contoso EU", "contoso-eu.onmicrosoft.com")]).await;
    let contoso = customer(&state, "Contoso", "contoso.com").await;
    let fabrikam = customer(&state, "Fabrikam", "fabrikam.com").await;

    let wakeup = tokio::sync::Notify::new();
    let outcome = link(
        &state.db,
        Actor::Staff(&admin),
        &ticked(&[&T1.to_uppercase()]),
        &LinkTarget::Existing(contoso),
        Some(&wakeup),
    )
    .await
    .unwrap();
    assert_eq!(outcome.linked, [(T1.to_owned(), contoso)]);
    assert!(outcome.sync_queued);
    assert_eq!(linked_tenants(&state, contoso).await, [T1]);
    let mut conn = state.db.pool().acquire().await.unwrap();
    assert!(
        store::sync::running_job_of_scope(&mut conn, &store::sync::customer_scope(contoso))
            .await
            .unwrap()
            .is_some(),
        "a sync of the linked customer is queued"
    );
    drop(conn);

    assert_eq!(
        unlink(&state.db, &admin, contoso, T1).await.unwrap(),
        "Contoso EU"
    );
    assert!(linked_tenants(&state, contoso).await.is_empty());
    let again = unlink(&state.db, &admin, contoso, T1).await.unwrap_err();
    assert!(matches!(again, AppError::Conflict { .. }), "{again:?}");

    // Linked again, to another customer: the same row taken up again.
    link(
        &state.db,
        Actor::Staff(&admin),
        &ticked(&[T1]),
        &LinkTarget::Existing(fabrikam),
        None,
    )
    .await
    .unwrap();
    assert_eq!(linked_tenants(&state, fabrikam).await, [T1]);
    assert!(linked_tenants(&state, contoso).await.is_empty());
    let subject = format!("tenant {T1}");
    assert_eq!(
        audit_actions(&state, contoso).await,
        [
            format!("tenant.link {subject} by admin@x.test"),
            format!("tenant.unlink {subject} by admin@x.test"),
        ]
    );
    assert_eq!(
        audit_actions(&state, fabrikam).await,
        [format!("tenant.link {subject} by admin@x.test")]
    );
}

async fn a_link_while_the_customer_is_being_synced_is_synced_after_it(state: AppState) {
    // A second tenant linked while a worker syncs the customer (it read the tenant list before
    // the link): joining that sync would leave the new tenant unsynced, so the customer's item
    // is due again and the worker that held it does not close it.
    use app::ssr::service::provider::{link, Actor, LinkTarget};
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    directory(
        &state,
        &[
            (T1, "Contoso EU", "contoso-eu.onmicrosoft.com"),
            (T2, "Contoso UK", "contoso-uk.onmicrosoft.com"),
        ],
    )
    .await;
    let contoso = customer(&state, "Contoso", "contoso.com").await;
    let wakeup = tokio::sync::Notify::new();
    let link_one = |tenant: &'static str| {
        let (db, admin, wakeup) = (state.db.clone(), admin.clone(), &wakeup);
        async move {
            link(
                &db,
                Actor::Staff(&admin),
                &ticked(&[tenant]),
                &LinkTarget::Existing(contoso),
                Some(wakeup),
            )
            .await
            .unwrap()
        }
    };
    link_one(T1).await;
    let backend = state.db.backend();
    let mut conn = state.db.pool().acquire().await.unwrap();
    let claimed = store::sync::claim(&mut conn, backend, "worker-1", 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let (job_id, _) = claimed[0];
    drop(conn);

    link_one(T2).await;
    let mut conn = state.db.pool().acquire().await.unwrap();
    let recorded =
        store::sync::finish_item(&mut conn, job_id, contoso, "worker-1", None, now_millis())
            .await
            .unwrap();
    assert!(
        !recorded,
        "the sync that began before the link does not close the item"
    );
    let again = store::sync::claim(&mut conn, backend, "worker-2", 10)
        .await
        .unwrap();
    assert_eq!(again, [(job_id, contoso)], "the customer is synced again");
}

async fn a_tenant_belongs_to_one_customer_and_a_second_link_names_the_holder(state: AppState) {
    use app::ssr::service::provider::{link, Actor, LinkTarget};
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    directory(&state, &[(T1, "Contoso EU", "contoso-eu.onmicrosoft.com")]).await;
    let contoso = customer(&state, "Contoso", "contoso.com").await;
    let fabrikam = customer(&state, "Fabrikam", "fabrikam.com").await;
    for target in [contoso, fabrikam] {
        let result = link(
            &state.db,
            Actor::Staff(&admin),
            &ticked(&[T1]),
            &LinkTarget::Existing(target),
            None,
        )
        .await;
        if target == contoso {
            result.unwrap();
        } else {
            match result.unwrap_err() {
                AppError::Conflict { message } => {
                    assert!(message.contains("already linked to Contoso"), "{message}")
                }
                other => panic!("expected a conflict, got {other:?}"),
            }
        }
    }
    assert!(linked_tenants(&state, fabrikam).await.is_empty());
    // The database itself refuses a second row for the tenant.
    let mut conn = state.db.pool().acquire().await.unwrap();
    assert!(
        store::customers::insert_tenant(&mut conn, fabrikam, T1, "x", "x.test", 1)
            .await
            .is_err()
    );
}

async fn all_matching_is_refused_when_the_matching_tenants_changed_since_they_were_counted(
    state: AppState,
) {
    // "All 2 matching tenants" was asked; a refresh then brought a third: linking "all" would
    // link one nobody saw. Refused, nothing linked; with the current count it goes through.
    use app::ssr::service::provider::{accept_suggestions, link, Actor, LinkTarget, Selection};
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    directory(
        &state,
        &[
            (T1, "Alpha Ltd", "alpha.onmicrosoft.com"),
            (T2, "Alpha Europe", "alpha-eu.onmicrosoft.com"),
            (T3, "Alpha Asia", "alpha-asia.onmicrosoft.com"),
        ],
    )
    .await;
    customer(&state, "Alpha", "alpha.com").await;
    let all = |expected: usize| Selection::AllUnlinkedMatching {
        search: "alpha".into(),
        expected: Some(expected),
    };
    let err = link(
        &state.db,
        Actor::Staff(&admin),
        &all(2),
        &LinkTarget::NewEach,
        None,
    )
    .await
    .unwrap_err();
    match err {
        AppError::Conflict { message } => assert!(
            message.contains("3 unlinked tenants match") && message.contains("not 2"),
            "{message}"
        ),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let err = accept_suggestions(&state.db, Actor::Staff(&admin), &all(2), None, false)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Conflict { .. }), "{err:?}");
    let customers_before = names(&state, &admin, "", None).await.0;
    assert_eq!(customers_before, ["Alpha"]);
    let outcome = link(
        &state.db,
        Actor::Staff(&admin),
        &all(3),
        &LinkTarget::NewEach,
        None,
    )
    .await
    .unwrap();
    assert_eq!(outcome.linked.len(), 3);
}

async fn link_multiple_is_all_or_nothing(state: AppState) {
    use app::ssr::service::provider::{link, Actor, LinkTarget};
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    directory(
        &state,
        &[
            (T1, "Alpha", "alpha.onmicrosoft.com"),
            (T2, "Beta", "beta.onmicrosoft.com"),
            (T3, "Gamma", "gamma.onmicrosoft.com"),
        ],
    )
    .await;
    let holder = customer(&state, "Holder", "holder.com").await;
    link(
        &state.db,
        Actor::Staff(&admin),
        &ticked(&[T3]),
        &LinkTarget::Existing(holder),
        None,
    )
    .await
    .unwrap();
    let customers_before = names(&state, &admin, "", None).await.0;
    // The third row is linked already: the first two, created as new customers, roll back.
    let err = link(
        &state.db,
        Actor::Staff(&admin),
        &ticked(&[T1, T2, T3]),
        &LinkTarget::NewEach,
        None,
    )
    .await
    .unwrap_err();
    match err {
        AppError::Conflict { message } => assert!(message.starts_with("Row 3:"), "{message}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(names(&state, &admin, "", None).await.0, customers_before);
    // A bad tenant id is refused with its row, before anything is written.
    let err = link(
        &state.db,
        Actor::Staff(&admin),
        &ticked(&[T1, "not-a-guid"]),
        &LinkTarget::NewEach,
        None,
    )
    .await
    .unwrap_err();
    assert!(
        err.field_message("items")
            .is_some_and(|m| m.starts_with("Row 2:")),
        "{err:?}"
    );
    // Without the linked one, both are created, one customer each.
    let outcome = link(
        &state.db,
        Actor::Staff(&admin),
        &ticked(&[T1, T2]),
        &LinkTarget::NewEach,
        None,
    )
    .await
    .unwrap();
    assert_eq!(outcome.created.len(), 2);
    assert_eq!(
        names(&state, &admin, "", None).await.0,
        ["Alpha", "Beta", "Holder"]
    );
    let (alpha, _) = &outcome.created[0];
    assert_eq!(linked_tenants(&state, *alpha).await, [T1]);
    assert_eq!(
        audit_actions(&state, *alpha).await,
        [
            "customer.create_from_tenant customer by admin@x.test".to_owned(),
            format!("tenant.link tenant {T1} by admin@x.test"),
        ]
    );
}

async fn two_concurrent_links_of_one_tenant_make_one_link_and_one_conflict(state: AppState) {
    use app::ssr::service::provider::{link, Actor, LinkTarget};
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    directory(&state, &[(T1, "Contoso EU", "contoso-eu.onmicrosoft.com")]).await;
    let a = customer(&state, "A", "a.com").await;
    let b = customer(&state, "B", "b.com").await;
    let selection = ticked(&[T1]);
    let (to_a, to_b) = (LinkTarget::Existing(a), LinkTarget::Existing(b));
    let (first, second) = tokio::join!(
        link(&state.db, Actor::Staff(&admin), &selection, &to_a, None),
        link(&state.db, Actor::Staff(&admin), &selection, &to_b, None),
    );
    let results = [first, second];
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .any(|r| matches!(r, Err(AppError::Conflict { .. }))),
        "{results:?}"
    );
    let linked = linked_tenants(&state, a).await.len() + linked_tenants(&state, b).await.len();
    assert_eq!(linked, 1);
}

async fn new_customers_from_tenants_are_validated_and_may_not_take_a_used_domain(state: AppState) {
    use app::ssr::service::provider::{link, Actor, LinkTarget};
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    directory(&state, &[(T1, "Contoso EU", "contoso-eu.onmicrosoft.com")]).await;
    customer(&state, "Contoso", "contoso.com").await;
    let new = |name: &str, domain: &str| LinkTarget::New {
        name: name.to_owned(),
        domain: domain.to_owned(),
    };
    for (target, field, expected) in [
        (
            new("  ", "contoso-eu.com"),
            "name",
            "Enter the customer's name.",
        ),
        (
            new(&"x".repeat(201), "contoso-eu.com"),
            "name",
            "201 characters",
        ),
        (
            new("Contoso EU", "not a domain"),
            "domain",
            "is not a domain name",
        ),
        (
            new("Contoso EU", "CONTOSO.com"),
            "domain",
            "already the primary domain of Contoso",
        ),
    ] {
        let err = link(
            &state.db,
            Actor::Staff(&admin),
            &ticked(&[T1]),
            &target,
            None,
        )
        .await
        .unwrap_err();
        let message = err
            .field_message(field)
            .unwrap_or_else(|| panic!("{err:?}"));
        assert!(message.contains(expected), "{message}");
    }
    assert_eq!(names(&state, &admin, "", None).await.0, ["Contoso"]);
    let outcome = link(
        &state.db,
        Actor::Staff(&admin),
        &ticked(&[T1]),
        &new(" Contoso Europe ", "Contoso.EU"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(outcome.customer.unwrap().name, "Contoso Europe");
    // A customer that does not exist is refused as missing.
    let err = link(
        &state.db,
        Actor::Staff(&admin),
        &ticked(&[T1]),
        &LinkTarget::Existing(999_999),
        None,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AppError::NotFound { .. }), "{err:?}");
}

async fn suggestions_are_explained_accepted_once_and_ambiguity_is_left_to_people(state: AppState) {
    use app::{
        model::{LinkFilter, SuggestionView},
        ssr::service::provider::{
            accept_suggestions, directory_page, link, unlink, Actor, DirectoryRequest, LinkTarget,
        },
    };
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let t4 = "44444444-0000-4000-8000-000000000004";
    directory(
        &state,
        &[
            (T1, "Northwind Traders GmbH", "northwind.onmicrosoft.com"),
            (T2, "Tailspin", "tailspin.com"),
            (T3, "Adatum Corp.", "adatum.onmicrosoft.com"),
            (t4, "Nobody Like Us", "nobody.onmicrosoft.com"),
        ],
    )
    .await;
    let northwind = customer(&state, "Northwind Traders", "northwind.com").await;
    let tailspin = customer(&state, "Tailspin Toys", "tailspin.com").await;
    customer(&state, "Adatum", "adatum.com").await;
    customer(&state, "ADATUM Inc", "adatum.net").await;
    // A tenant once linked to a customer is suggested for it again, whatever its name.
    let old_home = customer(&state, "Old Home", "oldhome.com").await;
    link(
        &state.db,
        Actor::Staff(&admin),
        &ticked(&[t4]),
        &LinkTarget::Existing(old_home),
        None,
    )
    .await
    .unwrap();
    unlink(&state.db, &admin, old_home, t4).await.unwrap();

    let page = directory_page(
        &state.db,
        &admin,
        false,
        DirectoryRequest {
            search: "",
            filter: LinkFilter::Unlinked,
            after: None,
            for_customer: None,
        },
    )
    .await
    .unwrap();
    let suggestion = |tenant: &str| {
        page.entries
            .iter()
            .find(|e| e.tenant_id == tenant)
            .unwrap()
            .suggestion
            .clone()
    };
    match suggestion(T1) {
        Some(SuggestionView::Customer {
            customer,
            confidence,
            ..
        }) => {
            assert_eq!((customer.id, confidence.as_str()), (northwind, "medium"))
        }
        other => panic!("{other:?}"),
    }
    match suggestion(T2) {
        Some(SuggestionView::Customer {
            customer,
            confidence,
            ..
        }) => {
            assert_eq!((customer.id, confidence.as_str()), (tailspin, "high"))
        }
        other => panic!("{other:?}"),
    }
    match suggestion(T3) {
        Some(SuggestionView::Ambiguous { customers, .. }) => assert_eq!(customers.len(), 2),
        other => panic!("{other:?}"),
    }
    match suggestion(t4) {
        Some(SuggestionView::Customer {
            customer,
            confidence,
            ..
        }) => {
            assert_eq!((customer.id, confidence.as_str()), (old_home, "certain"))
        }
        other => panic!("{other:?}"),
    }

    let all = ticked(&[T1, T2, T3, t4]);
    // A dry run says what would be linked and links nothing.
    let dry = accept_suggestions(&state.db, Actor::Staff(&admin), &all, None, true)
        .await
        .unwrap();
    assert_eq!(dry.linked.len(), 3);
    assert!(linked_tenants(&state, northwind).await.is_empty());
    let first = accept_suggestions(&state.db, Actor::Staff(&admin), &all, None, false)
        .await
        .unwrap();
    assert_eq!(first.linked.len(), 3);
    assert_eq!(first.left, 1, "the ambiguous one is left to a person");
    assert_eq!(linked_tenants(&state, northwind).await, [T1]);
    let second = accept_suggestions(&state.db, Actor::Staff(&admin), &all, None, false)
        .await
        .unwrap();
    assert!(second.linked.is_empty(), "running it again changes nothing");
    assert_eq!(second.left, 4);
}

async fn the_directory_pages_by_name_and_filters_by_link_state(state: AppState) {
    use app::{
        model::{LinkFilter, PROVIDER_PAGE_SIZE},
        ssr::service::provider::{directory_page, link, Actor, DirectoryRequest, LinkTarget},
    };
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let reader = staff(&state, "reader@x.test", Role::Reader).await;
    let n = PROVIDER_PAGE_SIZE as usize + 5;
    let tenants: Vec<(String, String, String)> = (0..n)
        .map(|i| {
            (
                format!("{i:08x}-0000-4000-8000-000000000000"),
                format!("Company {:03}", n - i),
                format!("c{i}.onmicrosoft.com"),
            )
        })
        .collect();
    let refs: Vec<(&str, &str, &str)> = tenants
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
        .collect();
    directory(&state, &refs).await;
    let home = customer(&state, "Home", "home.com").await;
    link(
        &state.db,
        Actor::Staff(&admin),
        &ticked(&[refs[0].0]),
        &LinkTarget::Existing(home),
        None,
    )
    .await
    .unwrap();
    let page = |filter, after: Option<String>, search: &'static str| {
        let (db, reader) = (state.db.clone(), reader.clone());
        async move {
            directory_page(
                &db,
                &reader,
                true,
                DirectoryRequest {
                    search,
                    filter,
                    after: after.as_deref(),
                    for_customer: None,
                },
            )
            .await
            .unwrap()
        }
    };
    let first = page(LinkFilter::Unlinked, None, "").await;
    assert_eq!(
        first.matching as usize,
        n - 1,
        "the linked tenant is hidden"
    );
    assert_eq!(first.entries.len(), PROVIDER_PAGE_SIZE as usize);
    assert!(!first.can_link, "a reader only looks");
    let second = page(LinkFilter::Unlinked, first.next_after.clone(), "").await;
    assert_eq!(second.entries.len(), n - 1 - PROVIDER_PAGE_SIZE as usize);
    assert!(second.next_after.is_none());
    let mut seen: Vec<String> = first
        .entries
        .iter()
        .chain(&second.entries)
        .map(|e| e.company_name.clone())
        .collect();
    let sorted = {
        let mut s = seen.clone();
        s.sort();
        s
    };
    assert_eq!(seen, sorted, "pages follow the name order");
    seen.dedup();
    assert_eq!(seen.len(), n - 1);

    let linked = page(LinkFilter::Linked, None, "").await;
    assert_eq!(linked.entries.len(), 1);
    assert_eq!(linked.entries[0].linked_to.as_ref().unwrap().name, "Home");
    // Search by name, domain or tenant id, in any case.
    assert_eq!(page(LinkFilter::All, None, "COMPANY 007").await.matching, 1);
    assert_eq!(
        page(LinkFilter::All, None, "c3.onmicrosoft").await.matching,
        1
    );
    assert_eq!(
        page(LinkFilter::All, None, "00000005-0000").await.matching,
        1
    );
    assert_eq!(page(LinkFilter::Gone, None, "").await.matching, 0);
}

/// A customer with the given tenant ids (names "Tenant <id>").
async fn customer_with_tenants(state: &AppState, name: &str, tenants: &[&str]) -> i64 {
    let id = customer(
        state,
        name,
        &format!("{}.test", name.to_lowercase().replace(' ', "")),
    )
    .await;
    let mut conn = state.db.pool().acquire().await.unwrap();
    for t in tenants {
        store::customers::insert_tenant(&mut conn, id, t, &format!("Tenant {t}"), "x.test", 0)
            .await
            .unwrap();
    }
    id
}

async fn one_tenant_failing_does_not_stop_the_others_and_a_refused_licence_call_keeps_the_rest(
    state: AppState,
) {
    let id = customer_with_tenants(&state, "Multi", &["t-a", "t-b", "t-c"]).await;
    // A first sync reads everything.
    service::sync::sync_customer(&state.db, &FakeSource::default(), id)
        .await
        .unwrap();
    // Then Partner Center no longer knows t-b, and refuses t-c's licence call.
    let source = FakeSource {
        failing: Arc::new(vec!["t-b".into()]),
        licences_failing: Arc::new(vec!["t-c".into()]),
        version: 7,
        ..Default::default()
    };
    let status = service::sync::sync_customer(&state.db, &source, id)
        .await
        .unwrap();
    assert_eq!(status.outcome, "partial");
    let error = status.error.unwrap();
    assert!(
        error.contains("tenant Tenant t-b (t-b): Partner Center answered 500"),
        "{error}"
    );
    assert!(
        error.contains("tenant Tenant t-c (t-c): licence counts not read"),
        "{error}"
    );
    assert!(!error.contains("(t-a)"), "{error}");
    assert_eq!(source.fetched().len(), 3, "every tenant was tried");
    let mut conn = state.db.pool().acquire().await.unwrap();
    let quantity = |tenant: &'static str| {
        sqlx::query_scalar::<_, i64>(
            "SELECT quantity FROM tenant_subscriptions WHERE tenant_id = $1 AND subscription_id = '5ab5c0de-0000-4000-8000-000000000001'",
        )
        .bind(tenant)
    };
    // t-c's subscriptions are the new ones, and its earlier licence counts are kept.
    assert_eq!(quantity("t-c").fetch_one(&mut *conn).await.unwrap(), 17);
    assert_eq!(
        store::sync::snapshot_counts(&mut conn, "t-c")
            .await
            .unwrap(),
        (2, 1)
    );
    // t-b keeps what the first sync stored.
    assert_eq!(quantity("t-b").fetch_one(&mut *conn).await.unwrap(), 10);
    let section = service::sync::tenants_section(
        &state.db,
        &staff(&state, "reader@x.test", Role::Reader).await,
        id,
    )
    .await
    .unwrap();
    let note = |t: &str| {
        section
            .tenants
            .iter()
            .find(|v| v.tenant_id == t)
            .unwrap()
            .licence_note
            .clone()
    };
    assert!(note("t-c").unwrap().contains("the earlier counts are kept"));
    assert_eq!(note("t-a"), None);

    // Every tenant failing is a failed sync.
    let all_gone = FakeSource {
        failing: Arc::new(vec!["t-a".into(), "t-b".into(), "t-c".into()]),
        ..Default::default()
    };
    let status = service::sync::sync_customer(&state.db, &all_gone, id)
        .await
        .unwrap();
    assert_eq!(status.outcome, "failed");
}

async fn without_delegated_consent_licence_counts_are_marked_missing_not_zero(state: AppState) {
    let id = customer_with_tenants(&state, "Solo", &["t-s"]).await;
    service::sync::sync_customer(&state.db, &FakeSource::default(), id)
        .await
        .unwrap();
    let app_only = FakeSource {
        app_only: true,
        ..Default::default()
    };
    let status = service::sync::sync_customer(&state.db, &app_only, id)
        .await
        .unwrap();
    assert_eq!((status.outcome.as_str(), status.error), ("ok", None));
    let mut conn = state.db.pool().acquire().await.unwrap();
    assert_eq!(
        store::sync::snapshot_counts(&mut conn, "t-s")
            .await
            .unwrap(),
        (2, 0),
        "no counts are kept that could pass for current ones"
    );
    let state_of: String =
        sqlx::query_scalar("SELECT licences FROM tenant_snapshots WHERE tenant_id = 't-s'")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    assert_eq!(state_of, "needs_consent");
    let section = service::sync::tenants_section(
        &state.db,
        &staff(&state, "reader@x.test", Role::Reader).await,
        id,
    )
    .await
    .unwrap();
    assert!(section.tenants[0]
        .licence_note
        .as_deref()
        .unwrap()
        .contains("need delegated consent"));
}

async fn a_fresh_directory_spares_the_profile_call(state: AppState) {
    let fresh = "aaaaaaaa-0000-4000-8000-00000000000a";
    let stale = "bbbbbbbb-0000-4000-8000-00000000000b";
    let id = customer_with_tenants(&state, "Directory", &[fresh, stale]).await;
    let listed = [
        listed(fresh, "Fresh", "fresh.test"),
        listed(stale, "Stale", "stale.test"),
    ];
    app::ssr::service::provider::apply(
        &state.db,
        &listed,
        app::ssr::service::provider::Actor::System("test"),
        1_000,
    )
    .await
    .unwrap();
    // Only `fresh` was listed moments ago.
    app::ssr::service::provider::apply(
        &state.db,
        &listed[..1],
        app::ssr::service::provider::Actor::System("test"),
        now_millis(),
    )
    .await
    .unwrap();
    let source = FakeSource::default();
    service::sync::sync_customer(&state.db, &source, id)
        .await
        .unwrap();
    assert_eq!(*source.known.lock().unwrap(), [fresh]);
    let mut conn = state.db.pool().acquire().await.unwrap();
    let name: String =
        sqlx::query_scalar("SELECT company_name FROM tenant_snapshots WHERE tenant_id = $1")
            .bind(fresh)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    assert_eq!(name, "Fresh");
}

/// Rows that belong to the customer, per table.
async fn rows_of(state: &AppState, customer_id: i64) -> Vec<(&'static str, i64)> {
    let mut conn = state.db.pool().acquire().await.unwrap();
    let mut out = Vec::new();
    for table in [
        "customers",
        "tenants",
        "customer_tags",
        "customer_account_managers",
        "setting_overrides",
        "customer_sync_status",
        "sync_job_items",
        "billed_subscriptions",
        "reconciliation_acknowledgements",
        "reconciliation_summaries",
        "reconciliation_summary_counts",
        "customer_billing_links",
    ] {
        let column = if table == "customers" {
            "id"
        } else {
            "customer_id"
        };
        let n: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1"))
                .bind(customer_id)
                .fetch_one(&mut *conn)
                .await
                .unwrap();
        out.push((table, n));
    }
    out
}

/// A customer with a tag, a linked tenant, a billed row, an override and a queued sync.
async fn furnished_customer(state: &AppState, admin: &StaffView, name: &str, domain: &str) -> i64 {
    let c = customer(state, name, domain).await;
    tag(state, admin, c, "Region", "North").await;
    let mut conn = state.db.pool().acquire().await.unwrap();
    store::customers::insert_tenant(&mut conn, c, &format!("t-{domain}"), name, domain, 0)
        .await
        .unwrap();
    drop(conn);
    save_billed_ok(&state.db, admin, c, &billed_input("Office 365 E3", "5")).await;
    service::configuration::save_override(&state.db, admin, c, "portal.language", "fr", 0)
        .await
        .unwrap();
    c
}

async fn a_deleted_customer_leaves_every_list_and_comes_back_as_it_was(state: AppState) {
    use service::deletion::{delete, deleted, restore};
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let helpdesk = staff(&state, "hd@x.test", Role::Helpdesk).await;
    let mut conn = state.db.pool().acquire().await.unwrap();
    store::staff::add_tag_scope(&mut conn, helpdesk.id, "region", "North")
        .await
        .unwrap();
    drop(conn);
    let c = furnished_customer(&state, &admin, "Contoso", "contoso.test").await;
    customer(&state, "Fabrikam", "fabrikam.test").await;
    let mut conn = state.db.pool().acquire().await.unwrap();
    let (job, _) = store::sync::start_all_job(&mut conn, "admin@x.test", now_millis())
        .await
        .unwrap();
    drop(conn);
    let before = rows_of(&state, c).await;

    // Only with the name typed back; only by an admin.
    let err = delete(&state.db, &admin, c, "contoso").await.unwrap_err();
    assert!(err.field_message("confirm_name").is_some(), "{err:?}");
    let err = delete(&state.db, &helpdesk, c, "Contoso")
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Forbidden), "{err:?}");
    assert_eq!(
        names(&state, &admin, "", None).await.0,
        ["Contoso", "Fabrikam"]
    );
    assert_eq!(
        delete(&state.db, &admin, c, " Contoso ").await.unwrap(),
        "Contoso"
    );

    // Gone from the list, a search, a Help Desk scope, the customer's page, its reports, the
    // partner-wide reports and the matrix; its queued sync is dropped.
    assert_eq!(names(&state, &admin, "", None).await.0, ["Fabrikam"]);
    assert!(names(&state, &admin, "contoso", None).await.0.is_empty());
    assert!(names(&state, &helpdesk, "", None).await.0.is_empty());
    let err = service::customers::header(&state.db, &admin, c)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::NotFound { .. }), "{err:?}");
    let err = service::reports::reconciliation(&state.db, &admin, c)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::NotFound { .. }), "{err:?}");
    let partner = service::reports::partner_reconciliation(&state.db, &admin, &Default::default())
        .await
        .unwrap();
    assert!(partner.rows.iter().all(|r| r.customer_id != c));
    assert_eq!(partner.customers, 0);
    let matrix = service::configuration::matrix(&state.db, &admin, &MatrixQuery::default())
        .await
        .unwrap();
    assert!(!format!("{matrix:?}").contains("Contoso"), "{matrix:?}");
    let mut conn = state.db.pool().acquire().await.unwrap();
    let state_of: String = sqlx::query_scalar(
        "SELECT state FROM sync_job_items WHERE job_id = $1 AND customer_id = $2",
    )
    .bind(job)
    .bind(c)
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(state_of, "failed");
    drop(conn);

    // Listed as deleted, by whom; restored as it was.
    let list = deleted(&state.db, &admin, 30).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(
        (list[0].id, list[0].deleted_by.as_str()),
        (c, "admin@x.test")
    );
    assert_eq!(
        list[0].purge_after - list[0].deleted_at,
        30 * 24 * 3600 * 1000
    );
    let restored = restore(&state.db, &admin, c).await.unwrap();
    assert_eq!(
        (restored.name.as_str(), restored.left_out.len()),
        ("Contoso", 0)
    );
    assert_eq!(
        names(&state, &admin, "", None).await.0,
        ["Contoso", "Fabrikam"]
    );
    assert_eq!(names(&state, &helpdesk, "", None).await.0, ["Contoso"]);
    let mut after = rows_of(&state, c).await;
    let mut expected = before.clone();
    // The queued sync item stays as failed; everything else is as it was.
    after.retain(|(t, _)| *t != "sync_job_items");
    expected.retain(|(t, _)| *t != "sync_job_items");
    assert_eq!(after, expected);
    assert!(deleted(&state.db, &admin, 30).await.unwrap().is_empty());
    let err = restore(&state.db, &admin, c).await.unwrap_err();
    assert!(matches!(err, AppError::NotFound { .. }), "{err:?}");
    let actions = audit_actions(&state, c).await;
    assert!(
        actions.iter().any(|a| a.starts_with("customer.delete ")),
        "{actions:?}"
    );
    assert!(
        actions.iter().any(|a| a.starts_with("customer.restore ")),
        "{actions:?}"
    );
}

async fn a_purge_removes_a_deleted_customer_and_every_row_of_it_and_the_audit_keeps_its_name(
    state: AppState,
) {
    use service::deletion::{delete, purge};
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let c = furnished_customer(&state, &admin, "Contoso", "contoso.test").await;
    let kept = furnished_customer(&state, &admin, "Fabrikam", "fabrikam.test").await;
    let kept_before = rows_of(&state, kept).await;
    delete(&state.db, &admin, c, "Contoso").await.unwrap();
    let day = 24 * 3600 * 1000;
    // Within the retention: nothing is purged.
    assert!(purge(&state.db, 30, now_millis() + 29 * day)
        .await
        .unwrap()
        .is_empty());
    assert!(rows_of(&state, c).await.iter().any(|(_, n)| *n > 0));
    let purged = purge(&state.db, 30, now_millis() + 31 * day).await.unwrap();
    assert_eq!(purged, [(c, "Contoso".to_owned())]);
    for (table, n) in rows_of(&state, c).await {
        assert_eq!(n, 0, "{table} keeps rows of the purged customer");
    }
    assert_eq!(
        rows_of(&state, kept).await,
        kept_before,
        "another customer is untouched"
    );
    let mut conn = state.db.pool().acquire().await.unwrap();
    let audit = store::audit::for_customer(&mut conn, c, 100).await.unwrap();
    let purge_line = audit
        .iter()
        .find(|row| row.action == "customer.purge")
        .expect("the purge is audited");
    assert!(purge_line
        .before_json
        .as_deref()
        .is_some_and(|b| b.contains("Contoso")));
    assert!(audit.iter().any(|row| row.action == "customer.delete"));
}

async fn a_customer_whose_domain_was_taken_meanwhile_is_not_restored(state: AppState) {
    use service::deletion::{delete, restore};
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let c = customer(&state, "Contoso", "contoso.test").await;
    delete(&state.db, &admin, c, "Contoso").await.unwrap();
    customer(&state, "Contoso Ltd", "contoso.test").await;
    let err = restore(&state.db, &admin, c).await.unwrap_err();
    match err {
        AppError::Conflict { message } => assert!(message.contains("Contoso Ltd"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(names(&state, &admin, "", None).await.0, ["Contoso Ltd"]);
}

async fn released_tenants_can_be_linked_elsewhere_and_a_restore_takes_back_only_the_free_ones(
    state: AppState,
) {
    use service::deletion::{delete, release_tenants, restore};
    use service::provider::{link, Actor, LinkTarget};
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    directory(
        &state,
        &[
            (T1, "Contoso EU", "contoso-eu.onmicrosoft.com"),
            (T2, "Contoso US", "contoso-us.onmicrosoft.com"),
        ],
    )
    .await;
    let contoso = customer(&state, "Contoso", "contoso.com").await;
    let fabrikam = customer(&state, "Fabrikam", "fabrikam.com").await;
    link(
        &state.db,
        Actor::Staff(&admin),
        &ticked(&[T1, T2]),
        &LinkTarget::Existing(contoso),
        None,
    )
    .await
    .unwrap();
    delete(&state.db, &admin, contoso, "Contoso").await.unwrap();

    // Still linked to the deleted customer: another customer cannot take a tenant...
    let err = link(
        &state.db,
        Actor::Staff(&admin),
        &ticked(&[T1]),
        &LinkTarget::Existing(fabrikam),
        None,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AppError::Conflict { .. }), "{err:?}");
    // ...until the tenants are released.
    assert_eq!(
        release_tenants(&state.db, &admin, contoso).await.unwrap(),
        2
    );
    link(
        &state.db,
        Actor::Staff(&admin),
        &ticked(&[T1]),
        &LinkTarget::Existing(fabrikam),
        None,
    )
    .await
    .unwrap();
    assert_eq!(linked_tenants(&state, fabrikam).await, [T1]);

    // Restored: the free tenant comes back, the taken one is named and left where it is.
    let restored = restore(&state.db, &admin, contoso).await.unwrap();
    assert_eq!(linked_tenants(&state, contoso).await, [T2]);
    assert_eq!(linked_tenants(&state, fabrikam).await, [T1]);
    assert_eq!(restored.left_out.len(), 1);
    assert!(
        restored.left_out[0].contains(T1) && restored.left_out[0].contains("Fabrikam"),
        "{:?}",
        restored.left_out
    );
    // Only a deleted customer's tenants are released.
    let err = release_tenants(&state.db, &admin, contoso)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::NotFound { .. }), "{err:?}");
}

async fn the_audit_log_pages_newest_first_by_keyset_and_filters_by_customer_staff_action_and_day(
    state: AppState,
) {
    use service::audit::{log_page, LogQuery};
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let finance = staff(&state, "finance@x.test", Role::Finance).await;
    let helpdesk = staff(&state, "hd@x.test", Role::Helpdesk).await;
    let contoso = customer(&state, "Contoso", "contoso.test").await;
    let fabrikam = customer(&state, "Fabrikam", "fabrikam.test").await;
    tag(&state, &admin, contoso, "Region", "North").await;
    save_billed_ok(
        &state.db,
        &finance,
        fabrikam,
        &billed_input("Office 365 E3", "5"),
    )
    .await;
    // 118 more, directly, so the log has 120 entries.
    let mut conn = state.db.pool().acquire().await.unwrap();
    for n in 0..118 {
        store::audit::insert(
            &mut conn,
            store::audit::AuditEntry {
                at: now_millis() - 1000,
                actor_id: None,
                actor_email: "job",
                action: "test.entry",
                customer_id: Some(contoso),
                subject: &format!("entry {n}"),
                before_json: Some(format!("{{\"n\":{n}}}")),
                after_json: Some(format!("{{\"n\":{}}}", n + 1)),
            },
        )
        .await
        .unwrap();
    }
    drop(conn);
    let page = |who: StaffView, query: LogQuery| {
        let db = state.db.clone();
        async move { log_page(&db, &who, &query).await }
    };

    // Newest first, 50 a page, each page after the last id shown, no entry twice.
    let mut seen = Vec::new();
    let mut before = None;
    let mut pages = 0;
    loop {
        let p = page(
            admin.clone(),
            LogQuery {
                before,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        seen.extend(p.entries.iter().map(|e| e.id));
        pages += 1;
        match p.next_before {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    assert_eq!((pages, seen.len()), (3, 120));
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "newest first, no repeat"
    );
    // With a time range the pages are in time order (118 entries share one instant): the same
    // 120 entries, each once, newest first.
    let yesterday = time::OffsetDateTime::now_utc()
        .date()
        .previous_day()
        .unwrap();
    let mut timed = Vec::new();
    let mut before = None;
    loop {
        let p = page(
            admin.clone(),
            LogQuery {
                from: yesterday.to_string(),
                before,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        timed.extend(p.entries.iter().map(|e| (e.at, e.id)));
        match p.next_before {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    assert_eq!(timed.len(), 120);
    assert!(timed.windows(2).all(|w| w[0] > w[1]), "{timed:?}");

    // Filters.
    let only = |query: LogQuery| {
        let admin = admin.clone();
        async move {
            page(admin, query)
                .await
                .unwrap()
                .entries
                .into_iter()
                .map(|e| e.action)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        only(LogQuery {
            customer: fabrikam.to_string(),
            ..Default::default()
        })
        .await,
        ["billed.add"]
    );
    assert_eq!(
        only(LogQuery {
            staff: "ADMIN@x.test".into(),
            ..Default::default()
        })
        .await,
        ["tag.add"]
    );
    assert_eq!(
        only(LogQuery {
            action: "test.entry".into(),
            ..Default::default()
        })
        .await
        .len(),
        50
    );
    let tomorrow = time::OffsetDateTime::now_utc().date().next_day().unwrap();
    assert!(only(LogQuery {
        from: tomorrow.to_string(),
        ..Default::default()
    })
    .await
    .is_empty());
    let err = page(
        admin.clone(),
        LogQuery {
            from: "01/12/2026".into(),
            customer: "Contoso".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert!(err.field_message("from").is_some() && err.field_message("customer").is_some());

    // The entry shows each field before and after.
    let entry = page(
        admin.clone(),
        LogQuery {
            action: "test.entry".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .entries[0]
        .clone();
    assert_eq!(entry.customer_name.as_deref(), Some("Contoso"));
    assert_eq!(entry.changes.len(), 1);
    assert_eq!(
        (
            entry.changes[0].before.as_deref(),
            entry.changes[0].after.as_deref()
        ),
        (Some("117"), Some("118"))
    );

    // Finance sees the billing and report entries; Help Desk nothing.
    let finance_page = page(finance.clone(), LogQuery::default()).await.unwrap();
    assert!(finance_page.billing_and_reports_only);
    let actions: Vec<_> = finance_page
        .entries
        .iter()
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(actions, ["billed.add"]);
    let err = page(helpdesk, LogQuery::default()).await.unwrap_err();
    assert!(matches!(err, AppError::Forbidden), "{err:?}");
}

/// Audit rows are append-only: no statement anywhere in the code updates or deletes them.
#[test]
fn no_statement_updates_or_deletes_audit_entries() {
    fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("rs") | Some("sql")
            ) {
                out.push(path);
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in ["app/src", "server/src", "migrations"] {
        sources(&root.join(dir), &mut files);
    }
    let mut touching = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap().to_lowercase();
        let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for statement in [
            "update audit_log",
            "delete from audit_log",
            "truncate audit_log",
            "drop table audit_log",
        ] {
            if text.contains(statement) {
                touching.push(format!("{}: {statement}", file.display()));
            }
        }
        if text.contains("insert into audit_log") {
            touching.push(format!("{}: insert", file.display()));
        }
    }
    // The one statement that writes it is the store's insert.
    assert_eq!(touching.len(), 1, "{touching:#?}");
    assert!(
        touching[0].ends_with("store/audit.rs: insert"),
        "{touching:#?}"
    );
}

async fn sign_in_as(state: &AppState, email: &str, password: &str) -> String {
    auth::sign_in(state, email, password.into(), None, None)
        .await
        .unwrap()
        .0
}

fn new_member(email: &str, role: &str, scopes: &str) -> service::staff::NewMember {
    service::staff::NewMember {
        email: email.into(),
        display_name: "Ana Lima".into(),
        role: role.into(),
        scopes: scopes.into(),
        password: "violet kettle orbit".into(),
    }
}

async fn staff_audit(
    state: &AppState,
    subject: &str,
) -> Vec<(String, Option<String>, Option<String>)> {
    sqlx::query_as(
        "SELECT action, before_json, after_json FROM audit_log WHERE subject = $1 ORDER BY id",
    )
    .bind(subject)
    .fetch_all(state.db.pool())
    .await
    .unwrap()
}

async fn an_admin_adds_a_member_changes_role_and_scope_and_every_step_is_audited(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let north = customer(&state, "Northwind", "northwind.test").await;
    let south = customer(&state, "Southridge", "southridge.test").await;
    tag(&state, &admin, north, "Region", "North").await;
    tag(&state, &admin, south, "Region", "South").await;
    let id = service::staff::add(
        &state.db,
        &admin,
        new_member(" Ana@X.test ", "helpdesk", "Region=North"),
    )
    .await
    .unwrap();
    // They sign in with the admin's password, must change it, and see only their scope.
    let token = sign_in_as(&state, "ana@x.test", "violet kettle orbit").await;
    let session = auth::resolve_session(&state, &token)
        .await
        .unwrap()
        .unwrap();
    assert!(session.password_change_required);
    let ana = session.staff;
    assert_eq!((ana.id, ana.role), (id, Role::Helpdesk));
    let visible = |who: StaffView| {
        let state = state.clone();
        async move {
            service::customers::ensure_visible(
                &mut state.db.pool().acquire().await.unwrap(),
                &who,
                south,
            )
            .await
            .is_ok()
        }
    };
    assert!(!visible(ana.clone()).await);
    service::staff::set_scopes(&state.db, &admin, id, "Region=North\nregion=South")
        .await
        .unwrap();
    assert!(visible(ana.clone()).await);
    service::staff::change_role(&state.db, &admin, id, "reader")
        .await
        .unwrap();
    let page = service::staff::page(&state, &admin).await.unwrap();
    let listed = page.members.iter().find(|m| m.id == id).unwrap();
    assert_eq!(listed.role, Role::Reader);
    assert_eq!(listed.sessions.len(), 1);
    assert!(listed.last_sign_in_at.is_some());
    let lines = staff_audit(&state, "ana@x.test").await;
    let actions: Vec<&str> = lines.iter().map(|(a, ..)| a.as_str()).collect();
    assert_eq!(actions, ["staff.add", "staff.scopes", "staff.role"]);
    assert_eq!(
        lines[1].1.as_deref(),
        Some(r#"{"scopes":["region=North"]}"#)
    );
    assert_eq!(
        lines[1].2.as_deref(),
        Some(r#"{"scopes":["region=North","region=South"]}"#)
    );
    assert_eq!(lines[2].1.as_deref(), Some(r#"{"role":"helpdesk"}"#));
    assert_eq!(lines[2].2.as_deref(), Some(r#"{"role":"reader"}"#));
    // Scopes are for Help Desk members only.
    let refused = service::staff::set_scopes(&state.db, &admin, id, "Region=North")
        .await
        .unwrap_err();
    assert!(refused
        .field_message("scopes")
        .unwrap()
        .contains("Help Desk"));
}

async fn bad_staff_input_is_refused_by_field_and_nothing_is_saved(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let mut input = new_member("not-an-address", "boss", "Region");
    input.password = "password2026".into();
    input.display_name = " ".into();
    let refused = service::staff::add(&state.db, &admin, input)
        .await
        .unwrap_err();
    assert!(refused
        .field_message("email")
        .unwrap()
        .contains("not an e-mail"));
    assert!(refused.field_message("display_name").is_some());
    assert!(refused
        .field_message("role")
        .unwrap()
        .contains("Choose a role"));
    let mut input = new_member("b@x.test", "helpdesk", "Region");
    input.password = "password2026".into();
    let refused = service::staff::add(&state.db, &admin, input)
        .await
        .unwrap_err();
    assert!(refused
        .field_message("scopes")
        .unwrap()
        .contains("Name=Value"));
    assert!(refused
        .field_message("password")
        .unwrap()
        .contains("most common"));
    let refused = service::staff::add(&state.db, &admin, new_member("Admin@x.test", "reader", ""))
        .await
        .unwrap_err();
    assert!(refused
        .field_message("email")
        .unwrap()
        .contains("already has an account"));
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM staff")
        .fetch_one(state.db.pool())
        .await
        .unwrap();
    assert_eq!(count, 1);
    assert!(staff_audit(&state, "b@x.test").await.is_empty());
}

async fn disabling_ends_sessions_and_enabling_lets_the_member_back(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let member = staff(&state, "m@x.test", Role::Finance).await;
    let token = sign_in_as(&state, "m@x.test", "m@x.test-password").await;
    let refused = service::staff::set_enabled(&state.db, &admin, admin.id, false)
        .await
        .unwrap_err();
    assert_eq!(refused.status(), 409);
    service::staff::set_enabled(&state.db, &admin, member.id, false)
        .await
        .unwrap();
    assert!(auth::resolve(&state, &token).await.unwrap().is_none());
    assert!(
        auth::sign_in(&state, "m@x.test", "m@x.test-password".into(), None, None)
            .await
            .is_err()
    );
    service::staff::set_enabled(&state.db, &admin, member.id, true)
        .await
        .unwrap();
    sign_in_as(&state, "m@x.test", "m@x.test-password").await;
    // A reset ends the sessions and makes them choose a new password.
    service::staff::reset_password(&state.db, &admin, member.id, "amber falcon river".into())
        .await
        .unwrap();
    let token = sign_in_as(&state, "m@x.test", "amber falcon river").await;
    assert!(
        auth::resolve_session(&state, &token)
            .await
            .unwrap()
            .unwrap()
            .password_change_required
    );
    let page = service::staff::page(&state, &admin).await.unwrap();
    let handle = page
        .members
        .iter()
        .find(|m| m.id == member.id)
        .unwrap()
        .sessions[0]
        .handle
        .clone();
    service::staff::end_session(&state.db, &admin, member.id, &handle)
        .await
        .unwrap();
    assert!(auth::resolve(&state, &token).await.unwrap().is_none());
    let lines = staff_audit(&state, "m@x.test").await;
    let actions: Vec<&str> = lines.iter().map(|(a, ..)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "staff.disable",
            "staff.enable",
            "staff.password_reset",
            "staff.session_end"
        ]
    );
    assert_eq!(lines[0].2.as_deref(), Some(r#"{"status":"disabled"}"#));
}

async fn the_last_enabled_admin_cannot_be_demoted_or_disabled(state: AppState) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let other = staff(&state, "other@x.test", Role::Admin).await;
    // With two, one may go; then the other is the last.
    service::staff::set_enabled(&state.db, &admin, other.id, false)
        .await
        .unwrap();
    let refused = service::staff::change_role(&state.db, &admin, admin.id, "reader")
        .await
        .unwrap_err();
    assert_eq!(refused.status(), 409);
    assert!(
        refused.to_string().contains("last enabled System Admin"),
        "{refused}"
    );
    // Enabled again, the other may demote the first.
    service::staff::set_enabled(&state.db, &admin, other.id, true)
        .await
        .unwrap();
    service::staff::change_role(&state.db, &other, admin.id, "reader")
        .await
        .unwrap();
    let refused = service::staff::change_role(&state.db, &other, other.id, "finance")
        .await
        .unwrap_err();
    assert_eq!(refused.status(), 409);
    assert_eq!(
        store::staff::count_active_admins(&mut state.db.pool().acquire().await.unwrap())
            .await
            .unwrap(),
        1
    );
}

async fn of_two_concurrent_demotions_of_the_last_two_admins_one_fails(state: AppState) {
    let a = staff(&state, "a@x.test", Role::Admin).await;
    let b = staff(&state, "b@x.test", Role::Admin).await;
    // The first demotion (of b) is inside its transaction, past its check, not yet committed...
    let mut first = state.db.begin_write().await.unwrap();
    store::staff::lock_active_admins(&mut first).await.unwrap();
    assert_eq!(
        store::staff::count_active_admins(&mut first).await.unwrap(),
        2
    );
    store::staff::set_role(&mut first, b.id, Role::Reader)
        .await
        .unwrap();
    // ...when the second (of a, by b) starts. On PostgreSQL it must wait for the first's locks
    // (seen in pg_stat_activity) rather than count the admins the first is taking away; on
    // SQLite it waits for the write lock.
    let second = {
        let db = state.db.clone();
        let a_id = a.id;
        tokio::spawn(async move { service::staff::change_role(&db, &b, a_id, "reader").await })
    };
    if state.db.backend() == Backend::Postgres {
        loop {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM pg_stat_activity
                 WHERE wait_event_type = 'Lock' AND datname = current_database()",
            )
            .fetch_one(state.db.pool())
            .await
            .unwrap();
            if waiting > 0 || second.is_finished() {
                break;
            }
            tokio::task::yield_now().await;
        }
    }
    first.commit().await.unwrap();
    let refused = second.await.unwrap().unwrap_err();
    assert_eq!(refused.status(), 409, "{refused:?}");
    let mut conn = state.db.pool().acquire().await.unwrap();
    assert_eq!(
        store::staff::count_active_admins(&mut conn).await.unwrap(),
        1
    );
}

async fn a_member_changes_their_own_password_with_the_current_one(state: AppState) {
    let me = staff(&state, "me@x.test", Role::Reader).await;
    let token = sign_in_as(&state, "me@x.test", "me@x.test-password").await;
    let change = |current: &str, new: &str, repeated: &str| {
        service::staff::change_own_password(
            &state,
            &me,
            current.into(),
            new.into(),
            repeated.into(),
        )
    };
    let refused = change("wrong", "amber falcon river", "amber falcon river")
        .await
        .unwrap_err();
    assert_eq!(
        refused.field_message("current"),
        Some("That is not your current password.")
    );
    let refused = change("me@x.test-password", "qwerty123456", "qwerty123456")
        .await
        .unwrap_err();
    assert!(refused
        .field_message("new")
        .unwrap()
        .contains("most common"));
    let refused = change(
        "me@x.test-password",
        "amber falcon river",
        "amber falcon rivers",
    )
    .await
    .unwrap_err();
    assert!(refused.field_message("repeated").is_some());
    let refused = change("me@x.test-password", "short", "short")
        .await
        .unwrap_err();
    assert!(refused
        .field_message("new")
        .unwrap()
        .contains("at least 12"));
    assert!(
        auth::resolve(&state, &token).await.unwrap().is_some(),
        "a refusal changes nothing"
    );
    change(
        "me@x.test-password",
        "amber falcon river",
        "amber falcon river",
    )
    .await
    .unwrap();
    // Outside a request there is no current session to keep: every session ended.
    assert!(auth::resolve(&state, &token).await.unwrap().is_none());
    assert!(
        auth::sign_in(&state, "me@x.test", "me@x.test-password".into(), None, None)
            .await
            .is_err()
    );
    sign_in_as(&state, "me@x.test", "amber falcon river").await;
    assert_eq!(
        staff_audit(&state, "me@x.test").await[0].0,
        "account.password"
    );
}

async fn api_tokens_are_hashed_scoped_expire_and_revoke_at_once(state: AppState) {
    use app::model::TokenScope;
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let created = service::api_tokens::create(&state.db, &admin, "ConnectWise", "read", "30")
        .await
        .unwrap();
    assert!(created.token.starts_with("pcp_") && created.token.len() > 60);
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM api_tokens")
        .fetch_one(state.db.pool())
        .await
        .unwrap();
    assert_ne!(stored, created.token);
    assert!(!stored.contains(&created.token[4..]));
    let (caller, scope) = service::api_tokens::authenticate(&state.db, &created.token)
        .await
        .unwrap();
    assert_eq!((caller.role, scope), (Role::Reader, TokenScope::Read));
    assert_eq!(caller.email, "token:ConnectWise");
    let listed = service::api_tokens::list(&state.db).await.unwrap();
    assert!(listed[0].last_used_at.is_some());
    assert!(listed[0].expires_at.is_some());
    // Same name again, a bad scope, a bad expiry: refused by field.
    let refused = service::api_tokens::create(&state.db, &admin, "connectwise", "all", "0")
        .await
        .unwrap_err();
    assert!(refused.field_message("scope").is_some());
    assert!(refused.field_message("expires_in_days").is_some());
    let refused = service::api_tokens::create(&state.db, &admin, "connectwise", "read", "")
        .await
        .unwrap_err();
    assert!(refused.field_message("name").unwrap().contains("exists"));
    // Unknown, expired and revoked tokens are refused.
    assert_eq!(
        service::api_tokens::authenticate(&state.db, "pcp_nothing")
            .await
            .unwrap_err(),
        AppError::Unauthenticated
    );
    let billing = service::api_tokens::create(&state.db, &admin, "Billing job", "billed_write", "")
        .await
        .unwrap();
    sqlx::query("UPDATE api_tokens SET expires_at = $1 WHERE name = 'Billing job'")
        .bind(now_millis() - 1)
        .execute(state.db.pool())
        .await
        .unwrap();
    assert!(service::api_tokens::authenticate(&state.db, &billing.token)
        .await
        .is_err());
    let id = listed[0].id;
    service::api_tokens::revoke(&state.db, &admin, id)
        .await
        .unwrap();
    assert!(service::api_tokens::authenticate(&state.db, &created.token)
        .await
        .is_err());
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_log WHERE action LIKE 'token.%' ORDER BY id")
            .fetch_all(state.db.pool())
            .await
            .unwrap();
    assert_eq!(actions, ["token.create", "token.create", "token.revoke"]);
}

async fn a_member_ends_only_their_own_sessions_and_activity_lists_one_customers_entries(
    state: AppState,
) {
    let admin = staff(&state, "admin@x.test", Role::Admin).await;
    let me = staff(&state, "me@x.test", Role::Reader).await;
    let mine = sign_in_as(&state, "me@x.test", "me@x.test-password").await;
    let other = sign_in_as(&state, "me@x.test", "me@x.test-password").await;
    let theirs = sign_in_as(&state, "admin@x.test", "admin@x.test-password").await;
    let account = service::staff::account(&state, &me).await.unwrap();
    assert_eq!(account.sessions.len(), 2);
    let admins = service::staff::account(&state, &admin).await.unwrap();
    // Another member's session is not one of mine: missing, and it lives on.
    let refused = service::staff::end_own_session(&state.db, &me, &admins.sessions[0].handle)
        .await
        .unwrap_err();
    assert_eq!(refused.status(), 404);
    assert!(auth::resolve(&state, &theirs).await.unwrap().is_some());
    // One of mine ends; the other lives on.
    service::staff::end_own_session(&state.db, &me, &account.sessions[0].handle)
        .await
        .unwrap();
    let live = [
        auth::resolve(&state, &mine).await.unwrap().is_some(),
        auth::resolve(&state, &other).await.unwrap().is_some(),
    ];
    assert_eq!(live.iter().filter(|l| **l).count(), 1, "{live:?}");

    // Activity: one customer's entries only, newest first; out of a Help Desk scope, missing.
    let north = customer(&state, "Northwind", "northwind.test").await;
    let south = customer(&state, "Southridge", "southridge.test").await;
    tag(&state, &admin, north, "Region", "North").await;
    tag(&state, &admin, north, "Tier", "Gold").await;
    tag(&state, &admin, south, "Region", "South").await;
    let activity = service::audit::customer_activity(&state.db, &me, north, None)
        .await
        .unwrap();
    assert_eq!(activity.entries.len(), 2);
    assert!(activity
        .entries
        .iter()
        .all(|e| e.customer_id == Some(north)));
    assert!(activity.entries[0].id > activity.entries[1].id);
    let helpdesk = staff(&state, "hd@x.test", Role::Helpdesk).await;
    let mut conn = state.db.pool().acquire().await.unwrap();
    store::staff::add_tag_scope(&mut conn, helpdesk.id, "region", "North")
        .await
        .unwrap();
    drop(conn);
    assert_eq!(
        service::audit::customer_activity(&state.db, &helpdesk, north, None)
            .await
            .unwrap()
            .entries
            .len(),
        2
    );
    let hidden = service::audit::customer_activity(&state.db, &helpdesk, south, None)
        .await
        .unwrap_err();
    assert_eq!(hidden.status(), 404);
}
