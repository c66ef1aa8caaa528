//! Importing a billing system's export into the billed record in the browser.
//! `/reports/billed-import` takes the file (a plain multipart form post, so it works without
//! JavaScript) and keeps it; `/reports/billed-import/{id}` shows what importing it would do,
//! line by line (new, changed, unchanged, rejected and why; the rows it ends), and imports it,
//! all or nothing.

use super::reports::PartnerReportTabs;
use crate::components::data;
use crate::{
    api::{
        reports::{get_billed_import, ApplyBilledImport},
        BILLED_IMPORT_UPLOAD_ROUTE,
    },
    components::{
        action_error, after_success, refetch_after, ErrorMessage, FocusPoint, FormMessage,
        PAGE_HEADING,
    },
    model::{count_of, format_time, thousands, BilledImportView, ImportAction},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// The file's columns: name, whether it must be there, what it holds.
const COLUMNS: [(&str, bool, &str); 13] = [
    (
        "customer",
        true,
        "The portal customer id, or a tenant id linked to the customer",
    ),
    ("product", true, "The product's name"),
    ("quantity", true, "Licences billed, 0 to 1,000,000"),
    ("tenant_id", false, "The tenant billed"),
    (
        "pc_subscription_id",
        false,
        "The Partner Center subscription billed (matched first)",
    ),
    ("offer_id", false, "The offer (matched next)"),
    (
        "billing_cycle",
        false,
        "monthly, annual, triennial, one_time or none",
    ),
    ("term", false, "P1M, P1Y or P3Y"),
    ("status", false, "active (the default), suspended or ended"),
    ("auto_renew", false, "true or false"),
    (
        "unit_price",
        false,
        "An exact decimal with a . (such as 12.50)",
    ),
    (
        "currency",
        false,
        "Three letters (such as EUR); needed with a unit price",
    ),
    ("notes", false, "Free text"),
];

#[component]
pub fn BilledImportUploadPage() -> impl IntoView {
    view! {
        <Title text="Import the billed record" />
        <h1 tabindex="-1">"Import the billed record"</h1>
        <PartnerReportTabs />
        <p class="muted intro">
            "A billing system's export, as CSV, replaces the billed record of each customer it names: each line changes the row it matches (by Partner Center subscription, else offer, else product) or adds one; the customer's rows no line names are ended. Customers it does not name are left as they are."
        </p>
        <form class="card" method="post" action=BILLED_IMPORT_UPLOAD_ROUTE enctype="multipart/form-data">
            <div class="field">
                <label for="import-file">"CSV file"</label>
                <input
                    id="import-file"
                    type="file"
                    name="file"
                    accept=".csv,text/csv"
                    required
                    aria-describedby="import-file-help"
                />
                <p class="hint" id="import-file-help">
                    "UTF-8 (Excel: “CSV UTF-8”), comma-separated, a header line naming the columns below in any order and case. Nothing is imported yet: you see what it would do first."
                </p>
            </div>
            <div class="form-actions">
                <button type="submit" class="primary">"Check the file"</button>
            </div>
        </form>
        <h2>"Columns"</h2>
        <table class="matrix import-columns">
            <thead>
                <tr>
                    <th scope="col">"Column"</th>
                    <th scope="col">"Needed"</th>
                    <th scope="col">"What it holds"</th>
                </tr>
            </thead>
            <tbody>
                {COLUMNS
                    .iter()
                    .map(|(name, needed, what)| {
                        view! {
                            <tr>
                                <th scope="row" data-label="Column"><code>{*name}</code></th>
                                <td data-label="Needed">{if *needed { "Yes" } else { "No" }}</td>
                                <td data-label="What it holds">{*what}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

#[component]
pub fn BilledImportPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or(0)
    });
    let apply = ServerAction::<ApplyBilledImport>::new();
    let applied = refetch_after(apply);
    let file = data(
        move || (id.get(), applied.get()),
        |(id, _)| get_billed_import(id),
    );
    after_success(apply, |_| Some(PAGE_HEADING.to_owned()));
    view! {
        <Title text="Import the billed record: the file" />
        <h1 id="page-heading" tabindex="-1">"Import the billed record"</h1>
        <PartnerReportTabs />
        <Transition fallback=|| view! { <p class="muted">"Checking the file…"</p> }>
            {move || Suspend::new(async move {
                match file.await {
                    Ok(file) => view! { <Review file apply /> <FocusPoint /> }.into_any(),
                    Err(error) => view! { <ErrorMessage error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Review(file: BilledImportView, apply: ServerAction<ApplyBilledImport>) -> impl IntoView {
    let about = format!(
        "{}, uploaded by {} on {}.",
        file.file_name,
        file.uploaded_by,
        format_time(file.uploaded_at)
    );
    let again = view! { <a class="button" href="/reports/billed-import">"Upload another file"</a> };
    if let Some((at, by, what)) = file.applied {
        return view! {
            <p>{about}</p>
            <p class="notice" data-testid="import-done">
                {format!("Imported by {by} on {}: {what}", format_time(at))}
            </p>
            <p>
                <a href="/reports/reconciliation">"See the reconciliation"</a>
                " "
                {again}
            </p>
        }
        .into_any();
    }
    if let Some(error) = file.file_error {
        return view! {
            <p>{about}</p>
            <div class="error-box" role="alert" data-testid="import-file-error">
                <p>{format!("This file cannot be imported: {error}.")}</p>
                <p>"Nothing was imported. Correct the file and upload it again."</p>
            </div>
            <p>{again}</p>
        }
        .into_any();
    }
    let summary = format!(
        "{}: {} new, {} changed, {} unchanged, {} rejected; {} ended.",
        count_of(file.lines_total, "line", "lines"),
        thousands(file.created as i64),
        thousands(file.changed as i64),
        thousands(file.unchanged as i64),
        thousands(file.rejected as i64),
        count_of(file.ended.len(), "billed row", "billed rows"),
    );
    let shown = (file.lines.len() < file.lines_total).then(|| {
        view! {
            <p class="muted">
                {format!(
                    "The first {} lines are shown, the rejected ones first.",
                    file.lines.len()
                )}
            </p>
        }
    });
    let action = if file.rejected > 0 {
        view! {
            <div class="error-box" role="alert" data-testid="import-rejected">
                <p>
                    {format!(
                        "{} rejected: nothing can be imported until the file is corrected and uploaded again.",
                        count_of(file.rejected, "line is", "lines are")
                    )}
                </p>
            </div>
            <p>{again}</p>
        }
        .into_any()
    } else {
        let error = action_error(apply);
        view! {
            <ActionForm action=apply attr:class="inline-form">
                <input type="hidden" name="id" value=file.id />
                <FormMessage error />
                <button type="submit" class="primary" disabled=move || apply.pending().get()>
                    "Import"
                </button>
                " "
                <a class="button" href="/reports/billed-import">"Cancel"</a>
            </ActionForm>
        }
        .into_any()
    };
    let ended = (!file.ended.is_empty()).then(|| {
        view! {
            <h2>"Billed rows it ends"</h2>
            <p class="muted">"Their customer is in the file, and no line names them."</p>
            <ul class="ended-rows">
                {file
                    .ended
                    .iter()
                    .map(|e| {
                        view! {
                            <li>
                                <a href=format!("/customers/{}/reports/reconciliation", e.customer.id)>
                                    {e.customer.name.clone()}
                                </a>
                                {format!(": {} (billed row {})", e.product, e.billed_row)}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
    });
    view! {
        <p>{about}</p>
        <p data-testid="import-summary">{summary}</p>
        {action}
        {ended}
        <h2>"Lines"</h2>
        {shown}
        <table class="matrix import-lines">
            <thead>
                <tr>
                    <th scope="col">"Line"</th>
                    <th scope="col">"Customer"</th>
                    <th scope="col">"Product"</th>
                    <th scope="col">"Quantity"</th>
                    <th scope="col">"What happens"</th>
                </tr>
            </thead>
            <tbody>
                {file
                    .lines
                    .into_iter()
                    .map(|line| {
                        let customer = match line.customer {
                            Some(c) => view! {
                                <a href=format!("/customers/{}/reports/reconciliation", c.id)>{c.name}</a>
                            }
                            .into_any(),
                            None => view! { <span>{line.customer_given}</span> }.into_any(),
                        };
                        let what = if line.detail.is_empty() {
                            line.action.label().to_owned()
                        } else {
                            format!("{}: {}", line.action.label(), line.detail)
                        };
                        view! {
                            <tr data-action=line.action.as_str() class:rejected=line.action == ImportAction::Reject>
                                <th scope="row" data-label="Line">{line.line}</th>
                                <td data-label="Customer">{customer}</td>
                                <td data-label="Product">{line.product}</td>
                                <td data-label="Quantity">{line.quantity}</td>
                                <td data-label="What happens">{what}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
