//! `/sync`: Reload Reconciliation for all customers, with the job's live progress.

use crate::components::data;
use crate::{
    api::sync::{get_sync_page, ReloadAllCustomers},
    components::{action_error, after_success, ErrorMessage, FormMessage},
    model::{format_time, SyncJobView},
};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SyncPage() -> impl IntoView {
    let start = ServerAction::<ReloadAllCustomers>::new();
    // With JavaScript the progress is fetched again every second while a job runs (and not
    // once it has ended); without it, on reload.
    let tick = RwSignal::new(0u64);
    let page = data(
        move || (tick.get(), start.version().get()),
        |_| get_sync_page(),
    );
    Effect::new(move |_| {
        let handle = set_interval_with_handle(
            move || {
                let running = page.get_untracked().is_some_and(|p| {
                    p.as_ref()
                        .is_ok_and(|p| p.job.as_ref().is_some_and(|j| j.running))
                });
                if running {
                    tick.update(|n| *n += 1);
                }
            },
            std::time::Duration::from_secs(1),
        );
        on_cleanup(move || {
            if let Ok(handle) = handle {
                handle.clear();
            }
        });
    });
    let error = action_error(start);
    after_success(start, |_| None);
    view! {
        <Title text="Reload reconciliation" />
        <h1 tabindex="-1">"Reload reconciliation"</h1>
        <p class="muted intro">
            "Syncs every customer that has a Partner Center tenant: subscriptions and license counts are fetched again. It goes on in the background, even if the server restarts."
        </p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => {
                        let button = page.can_start.then(|| {
                            let running = page.job.as_ref().is_some_and(|j| j.running);
                            view! {
                                <ActionForm action=start attr:class="inline-form">
                                    <button type="submit" class="primary" disabled=move || start.pending().get()>
                                        {if running { "Join the running reload" } else { "Reload all customers" }}
                                    </button>
                                </ActionForm>
                            }
                        });
                        view! {
                            {button}
                            <FormMessage error />
                            {match page.job {
                                Some(job) => view! { <JobProgress job /> }.into_any(),
                                None => view! { <p class="empty">"No reload has run yet."</p> }.into_any(),
                            }}
                        }
                            .into_any()
                    }
                    Err(error) => view! { <ErrorMessage error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn JobProgress(job: SyncJobView) -> impl IntoView {
    let finished = job.done + job.failed;
    let percent = if job.total == 0 {
        100
    } else {
        finished * 100 / job.total
    };
    let left = job.seconds_left.map(|s| {
        if s >= 90 {
            format!(" · about {} min left", (s + 59) / 60)
        } else {
            format!(" · about {s} s left")
        }
    });
    let state = if job.running {
        format!(
            "Running since {}, started by {}",
            format_time(job.created_at),
            job.requested_by
        )
    } else {
        format!(
            "Finished {} (started by {})",
            job.finished_at.map(format_time).unwrap_or_default(),
            job.requested_by
        )
    };
    view! {
        <section class="job card" aria-label="Progress">
            <p class="job-state">{state}</p>
            <progress max=job.total.max(1) value=finished aria-label="Customers synced">
                {format!("{percent}%")}
            </progress>
            <p class="job-figures" data-testid="job-figures">
                <strong>{format!("{percent}%")}</strong>
                {format!(
                    " · {} done · {} failed · {} remaining · {:.0} per minute",
                    job.done, job.failed, job.remaining, job.per_minute
                )}
                {left}
            </p>
            {(!job.failures.is_empty())
                .then(|| {
                    view! {
                        <h2>"Failed customers"</h2>
                        <ul class="failures">
                            {job
                                .failures
                                .into_iter()
                                .map(|(name, reason)| view! { <li><strong>{name}</strong> ": " {reason}</li> })
                                .collect_view()}
                        </ul>
                    }
                })}
            <a href="/sync">"Refresh"</a>
        </section>
    }
}
