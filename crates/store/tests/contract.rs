//! The storage contract: every behaviour the archive promises, run against SQLite and against
//! PostgreSQL (when `LIFEGUARD_TEST_DATABASE_URL` is set; otherwise those tests say they were
//! skipped).

#[path = "contract/cases.rs"]
mod cases;
#[path = "contract/directory.rs"]
mod directory;
#[path = "contract/harness.rs"]
mod harness;

/// For each case of a module, one test per backend.
macro_rules! contract {
    ($module:ident; $($case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let backend = crate::harness::sqlite().await;
                crate::$module::$case(&backend).await;
                backend.cleanup().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(backend) = crate::harness::postgres().await else { return };
                crate::$module::$case(&backend).await;
                backend.cleanup().await;
            }
        }
    )*};
}

contract!(
    cases;
    append_archives_items_with_verdicts,
    append_is_idempotent,
    edits_and_deletions_are_new_versions,
    search_finds_words_phrases_and_prefixes,
    search_filters,
    refreshing_statistics_changes_no_answer_and_no_entry,
    search_pages_with_a_cursor,
    common_words_page_exactly_across_blocks,
    search_rejects_bad_limits,
    a_final_sigma_is_found_either_way_it_was_written,
    bad_items_are_rejected_whole,
    nul_characters_are_refused_alike,
    verify_accepts_an_untouched_archive,
    checkpoints_must_match_the_chain,
    a_batch_can_be_signed_in_its_own_transaction,
    database_refuses_changes,
    altered_payload_is_caught,
    altered_search_row_is_caught,
    altered_verdict_rows_are_caught,
    forged_hold_and_retention_rows_are_caught,
    unindexed_item_is_caught,
    deleted_entry_is_caught,
    reordered_entries_are_caught,
    truncated_chain_is_caught,
    holds_and_retention_decide_disposal,
    versions_archived_after_a_disposal_are_disposed_in_turn,
    dispose_rechecks_holds_in_its_transaction,
    released_hold_lets_content_go,
    nothing_held_or_within_retention_is_ever_disposed,
    concurrent_writers_keep_one_chain,
    stats_count_everything,
);

contract!(
    directory;
    people_are_created_changed_and_validated,
    managers_cannot_loop_and_teams_are_transitive,
    accounts_are_unique_per_platform,
    tokens_are_created_listed_and_revoked,
    sessions_start_end_and_expire,
    deactivation_ends_sessions_and_revokes_tokens,
    failed_logins_lock_and_success_clears,
    settings_are_set_and_replaced,
    audit_trail_filters_and_orders,
    every_change_writes_one_action_entry,
    append_audited_is_one_transaction,
    search_by_audience,
    the_audit_trail_is_append_only,
    altered_audit_trail_is_caught,
    verify_runs_while_actions_are_written,
    concurrent_audited_appends_each_get_their_report,
);
