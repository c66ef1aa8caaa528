//! The JSON shapes of the Partner Center REST API (v1), as far as the portal reads them. The
//! simulator writes the same types, so the two cannot drift apart.

use serde::{Deserialize, Serialize};

/// `attributes` on every resource.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attributes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    pub object_type: String,
}

impl Attributes {
    pub fn of(object_type: &str) -> Self {
        Attributes {
            etag: None,
            object_type: object_type.to_owned(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompanyProfile {
    /// Optional in Microsoft's reference: the customer's `id` is its tenant id too.
    #[serde(default)]
    pub tenant_id: String,
    #[serde(default)]
    pub domain: String,
    #[serde(default)]
    pub company_name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub address_line1: String,
    #[serde(default)]
    pub postal_code: String,
    #[serde(default)]
    pub phone_number: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillingProfile {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub culture: String,
    #[serde(default)]
    pub language: String,
    #[serde(default)]
    pub company_name: String,
    #[serde(default)]
    pub default_address: Address,
}

/// A customer of the partner: `id` is the customer's tenant id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub id: String,
    #[serde(default)]
    pub commerce_id: String,
    pub company_profile: CompanyProfile,
    #[serde(default)]
    pub billing_profile: BillingProfile,
    #[serde(default)]
    pub relationship_to_partner: String,
    #[serde(default)]
    pub allow_delegated_access: bool,
    pub attributes: Attributes,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub id: String,
    pub offer_id: String,
    pub offer_name: String,
    #[serde(default)]
    pub friendly_name: String,
    pub quantity: i64,
    #[serde(default)]
    pub unit_type: String,
    #[serde(default)]
    pub creation_date: String,
    #[serde(default)]
    pub effective_start_date: String,
    #[serde(default)]
    pub commitment_end_date: String,
    pub status: String,
    #[serde(default)]
    pub auto_renew_enabled: bool,
    #[serde(default)]
    pub billing_type: String,
    #[serde(default)]
    pub billing_cycle: String,
    #[serde(default)]
    pub term_duration: String,
    #[serde(default)]
    pub is_trial: bool,
    #[serde(default)]
    pub order_id: String,
    pub attributes: Attributes,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductSku {
    pub id: String,
    pub name: String,
    pub sku_part_number: String,
    #[serde(default)]
    pub target_type: String,
    #[serde(default)]
    pub license_group_id: String,
}

/// License counts of one product in a customer's tenant. Consumed can exceed total.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscribedSku {
    pub total_units: i64,
    pub active_units: i64,
    pub consumed_units: i64,
    pub available_units: i64,
    #[serde(default)]
    pub suspended_units: i64,
    #[serde(default)]
    pub warning_units: i64,
    #[serde(default)]
    pub capability_status: String,
    pub product_sku: ProductSku,
    pub attributes: Attributes,
}

/// A header to send with a link, e.g. the continuation token of the next page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkHeader {
    pub key: String,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub uri: String,
    pub method: String,
    #[serde(default)]
    pub headers: Vec<LinkHeader>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Links {
    #[serde(default, rename = "self", skip_serializing_if = "Option::is_none")]
    pub self_: Option<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<Link>,
}

/// The envelope of every list: `items`, and `links.next` until the last page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Collection<T> {
    pub total_count: i64,
    pub items: Vec<T>,
    #[serde(default)]
    pub links: Links,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
    pub attributes: Attributes,
}

/// An error answer: `{"code":3000,"description":"…","data":[],"source":"PartnerFD"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: i64,
    pub description: String,
    #[serde(default)]
    pub data: Vec<serde_json::Value>,
    #[serde(default)]
    pub source: String,
}

/// The token endpoint's answer. `expires_in` is a string of seconds in Azure AD v1 answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub token_type: String,
    pub expires_in: serde_json::Value,
    pub access_token: String,
    /// A refresh-token grant's answer carries the refresh token that replaces the one used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

impl TokenResponse {
    pub fn expires_in_seconds(&self) -> Option<u64> {
        match &self.expires_in {
            serde_json::Value::String(s) => s.trim().parse().ok(),
            serde_json::Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_without_optional_fields_and_with_unknown_ones_is_read() {
        let json = r#"{"id":"9b6f1a2c-0000-4000-8000-000000000001","companyProfile":{},
            "attributes":{"objectType":"Customer"},"associatedPartnerId":"x","newField":[1,2]}"#;
        let customer: Customer = serde_json::from_str(json).unwrap();
        assert_eq!(customer.company_profile.domain, "");
        assert_eq!(customer.relationship_to_partner, "");
    }
}
