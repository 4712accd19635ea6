//! The storage contract: every behaviour the archive promises, run against SQLite and against
//! PostgreSQL (when `LIFEGUARD_TEST_DATABASE_URL` is set; otherwise those tests say they were
//! skipped).

#[path = "contract/cases.rs"]
mod cases;
#[path = "contract/harness.rs"]
mod harness;

/// For each case, one test per backend.
macro_rules! contract {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let backend = crate::harness::sqlite().await;
                crate::cases::$case(&backend).await;
                backend.cleanup().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(backend) = crate::harness::postgres().await else { return };
                crate::cases::$case(&backend).await;
                backend.cleanup().await;
            }
        }
    )*};
}

contract!(
    append_archives_items_with_verdicts,
    append_is_idempotent,
    edits_and_deletions_are_new_versions,
    search_finds_words_phrases_and_prefixes,
    search_filters,
    search_pages_with_a_cursor,
    common_words_page_exactly_across_blocks,
    search_rejects_bad_limits,
    bad_items_are_rejected_whole,
    verify_accepts_an_untouched_archive,
    checkpoints_must_match_the_chain,
    database_refuses_changes,
    altered_payload_is_caught,
    altered_search_row_is_caught,
    deleted_entry_is_caught,
    reordered_entries_are_caught,
    truncated_chain_is_caught,
    holds_and_retention_decide_disposal,
    dispose_rechecks_holds_in_its_transaction,
    released_hold_lets_content_go,
    nothing_held_or_within_retention_is_ever_disposed,
    concurrent_writers_keep_one_chain,
    stats_count_everything,
);
