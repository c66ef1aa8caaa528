//! The payment gateway clients against the gateways' simulator (written from Stripe's and
//! Authorize.Net's documentation): found, deleted, missing, malformed ids, a gateway error, a
//! timeout and wrong credentials; and no secret in the logs.

use app::ssr::{
    gateway::{
        AuthorizeNetClient, BillingProfile, GatewayError, Lookup, PaymentGateway, StripeClient,
    },
    partner_center::Secret,
};
use server::gateway_sim::{router, GatewayData, GatewaySimulator};
use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

async fn simulator() -> (String, GatewayData) {
    let data = GatewayData::demo();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sim = GatewaySimulator::new(data.clone());
    tokio::spawn(async move { axum::serve(listener, router(sim)).await });
    (format!("http://{addr}"), data)
}

fn stripe(url: &str, key: &str) -> StripeClient {
    StripeClient::new(
        &format!("{url}/stripe"),
        Secret::new(key),
        Duration::from_millis(800),
    )
    .unwrap()
}

fn authorize_net(url: &str, login: &str, key: &str) -> AuthorizeNetClient {
    AuthorizeNetClient::new(
        &format!("{url}/authorize-net/xml/v1/request.api"),
        login,
        Secret::new(key),
        Duration::from_millis(800),
    )
    .unwrap()
}

#[tokio::test]
async fn stripe_finds_a_customer_and_tells_deleted_missing_and_failures_apart() {
    let (url, data) = simulator().await;
    let client = stripe(&url, &data.stripe_test_key);
    assert_eq!(
        client.look_up("cus_NffrFeUfNV2Hib").await,
        Ok(Lookup::Found(BillingProfile {
            id: "cus_NffrFeUfNV2Hib".into(),
            name: "Alder Creek Dental".into(),
            email: "billing@aldercreek.example".into(),
            test_mode: true,
        }))
    );
    assert_eq!(
        client.look_up("cus_OldDeleted0001").await,
        Ok(Lookup::Deleted)
    );
    assert_eq!(
        client.look_up("cus_Nobody0000000").await,
        Ok(Lookup::Missing)
    );
    // A test key does not see live customers, nor a live key test ones.
    assert_eq!(
        client.look_up("cus_LiveOnly00001").await,
        Ok(Lookup::Missing)
    );
    let live = stripe(&url, &data.stripe_live_key);
    assert!(matches!(
        live.look_up("cus_LiveOnly00001").await,
        Ok(Lookup::Found(BillingProfile {
            test_mode: false,
            ..
        }))
    ));
    assert_eq!(
        live.look_up("cus_NffrFeUfNV2Hib").await,
        Ok(Lookup::Missing)
    );
    assert!(matches!(
        client.look_up("cus_fail500").await,
        Err(GatewayError::Unavailable { message, .. }) if message == "HTTP 500"
    ));
    assert!(matches!(
        client.look_up("cus_hang").await,
        Err(GatewayError::Unavailable { message, .. }) if message == "timed out"
    ));
    let wrong = stripe(&url, "sk_test_wrong");
    assert!(matches!(
        wrong.look_up("cus_NffrFeUfNV2Hib").await,
        Err(GatewayError::Unauthorized { .. })
    ));
}

#[test]
fn stripe_ids_are_trimmed_and_checked_for_their_form() {
    let client = stripe("http://127.0.0.1:9", "sk_test_x");
    assert_eq!(
        client.parse_id("  cus_NffrFeUfNV2Hib \n"),
        Ok("cus_NffrFeUfNV2Hib".into())
    );
    for bad in [
        "",
        "cus_",
        "NffrFeUfNV2Hib",
        "cus_abc def",
        "cus_abc/../x",
        "sub_123",
    ] {
        assert!(client.parse_id(bad).is_err(), "{bad:?}");
    }
}

#[tokio::test]
async fn authorize_net_finds_a_profile_through_its_byte_order_mark_and_tells_errors_apart() {
    let (url, data) = simulator().await;
    let client = authorize_net(
        &url,
        &data.authorize_net_login_id,
        &data.authorize_net_transaction_key,
    );
    assert_eq!(
        client.look_up("40338125").await,
        Ok(Lookup::Found(BillingProfile {
            id: "40338125".into(),
            name: "Alder Creek Dental".into(),
            email: "billing@aldercreek.example".into(),
            test_mode: false,
        }))
    );
    // No description: the merchant's own customer id names it.
    assert!(matches!(
        client.look_up("40338126").await,
        Ok(Lookup::Found(BillingProfile { name, .. })) if name == "ALPINE-02"
    ));
    assert_eq!(client.look_up("123").await, Ok(Lookup::Missing));
    assert!(matches!(
        client.look_up("500").await,
        Err(GatewayError::Unavailable { .. })
    ));
    assert!(matches!(
        client.look_up("999").await,
        Err(GatewayError::Unavailable { message, .. }) if message == "timed out"
    ));
    let wrong = authorize_net(&url, &data.authorize_net_login_id, "wrong-key");
    assert!(matches!(
        wrong.look_up("40338125").await,
        Err(GatewayError::Unauthorized { .. })
    ));
    assert_eq!(client.parse_id(" 40338125 "), Ok("40338125".into()));
    for bad in ["", "abc", "12a", "cus_1", "123456789012345678901"] {
        assert!(client.parse_id(bad).is_err(), "{bad:?}");
    }
}

/// A log sink for one test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_gateway_secrets_never_appear_in_logs_or_debug_output() {
    let (url, data) = simulator().await;
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let stripe_client = stripe(&url, &data.stripe_test_key);
    let authorize_client = authorize_net(
        &url,
        &data.authorize_net_login_id,
        &data.authorize_net_transaction_key,
    );
    for id in ["cus_NffrFeUfNV2Hib", "cus_Nobody0000000", "cus_fail500"] {
        let answer = stripe_client.look_up(id).await;
        tracing::info!(?answer, client = ?stripe_client, "looked up");
    }
    let wrong = stripe(&url, "sk_test_wrongSecretValue123");
    let answer = wrong.look_up("cus_NffrFeUfNV2Hib").await;
    tracing::info!(?answer, client = ?wrong, "looked up");
    for id in ["40338125", "123"] {
        let answer = authorize_client.look_up(id).await;
        tracing::info!(?answer, client = ?authorize_client, "looked up");
    }
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("looked up"), "the logs were captured: {logs}");
    for secret in [
        data.stripe_test_key.as_str(),
        "sk_test_wrongSecretValue123",
        data.authorize_net_transaction_key.as_str(),
    ] {
        assert!(!logs.contains(secret), "a secret is in the logs");
    }
}
