//! The SES v2 `SendEmail` request in the API's own field names: what Herald
//! fills in, and what JSON overrides may change.

use serde::{Deserialize, Serialize};

use super::overrides::OverrideError;

/// The overridable fields of a `SendEmail` request. `Content` is not among
/// them: Herald owns the raw message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RequestFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_email_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_email_address_identity_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<Destination>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to_addresses: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback_forwarding_email_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback_forwarding_email_address_identity_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_tags: Option<Vec<Tag>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration_set_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_management_options: Option<ListManagementOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Destination {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to_addresses: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cc_addresses: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bcc_addresses: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Tag {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ListManagementOptions {
    /// Required by SES; optional here so that one override layer may name
    /// the list and another the topic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_list_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic_name: Option<String>,
}

/// One request: its fields and the raw MIME message (shared, never copied
/// per attempt).
#[derive(Debug, Clone, PartialEq)]
pub struct SendRequest {
    pub fields: RequestFields,
    pub raw: bytes::Bytes,
}

impl SendRequest {
    /// Recipients SES counts against the send rate.
    pub fn recipient_count(&self) -> usize {
        self.fields.destination.as_ref().map_or(0, |d| {
            d.to_addresses.len() + d.cc_addresses.len() + d.bcc_addresses.len()
        })
    }
}

/// Reads request fields from JSON, naming the path of a wrong field.
pub fn from_json(value: serde_json::Value) -> Result<RequestFields, OverrideError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        OverrideError::new(path, e.into_inner().to_string())
    })
}

impl RequestFields {
    /// Refuses a CR or LF in any field that becomes a header or an envelope
    /// address, whichever layer set it: a line break there would let a job
    /// add headers or recipients of its own.
    pub fn check_headers(&self) -> Result<(), OverrideError> {
        let destination = self.destination.as_ref();
        let lists = [
            (
                "Destination.ToAddresses",
                destination.map(|d| &d.to_addresses),
            ),
            (
                "Destination.CcAddresses",
                destination.map(|d| &d.cc_addresses),
            ),
            (
                "Destination.BccAddresses",
                destination.map(|d| &d.bcc_addresses),
            ),
            ("ReplyToAddresses", self.reply_to_addresses.as_ref()),
        ];
        let singles = [
            ("FromEmailAddress", self.from_email_address.as_ref()),
            (
                "FromEmailAddressIdentityArn",
                self.from_email_address_identity_arn.as_ref(),
            ),
            (
                "FeedbackForwardingEmailAddress",
                self.feedback_forwarding_email_address.as_ref(),
            ),
            ("ConfigurationSetName", self.configuration_set_name.as_ref()),
        ];
        let lists = lists
            .into_iter()
            .flat_map(|(path, list)| list.into_iter().flatten().map(move |v| (path, v)));
        let tags = self.email_tags.iter().flatten();
        let tags = tags.flat_map(|t| [("EmailTags", &t.name), ("EmailTags", &t.value)]);
        let singles = singles
            .into_iter()
            .filter_map(|(path, v)| v.map(|v| (path, v)));
        for (path, value) in lists.chain(singles).chain(tags) {
            if value.contains(['\r', '\n']) {
                return Err(OverrideError::new(path, "contains a line break (CR or LF)"));
            }
        }
        Ok(())
    }
}
