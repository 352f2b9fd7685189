//! The raw MIME message, built with mail-builder.

use mail_builder::headers::address::Address;
use mail_builder::mime::MimePart;
use mail_builder::MessageBuilder;

use super::{Mailbox, RenderedEmail};

/// Most bytes SES accepts for one raw message.
pub const SES_MAX_MESSAGE_BYTES: usize = 40 * 1000 * 1000;

/// Header carrying the job's message id, for correlation in mailboxes.
pub const MESSAGE_ID_HEADER: &str = "X-Herald-Message-Id";

/// Why an email could not become MIME.
#[derive(Debug, thiserror::Error)]
pub enum MimeError {
    #[error("cannot write the message: {0}")]
    Write(#[from] std::io::Error),
    #[error("the email is {bytes} bytes, over SES's limit of {SES_MAX_MESSAGE_BYTES} (attachments: {attachments})")]
    TooLarge { bytes: usize, attachments: String },
}

impl From<MimeError> for super::RenderError {
    fn from(e: MimeError) -> Self {
        super::invalid("message", e.to_string())
    }
}

/// Serialises an email to RFC 5322 bytes. Bcc recipients are left out of the
/// headers: they only travel in the SES request's destination.
pub fn build(email: &RenderedEmail, message_id: &str) -> Result<Vec<u8>, MimeError> {
    let mut builder = MessageBuilder::new()
        .from(address(&email.from))
        .to(address(&email.to))
        .subject(email.subject.as_str())
        .header(
            MESSAGE_ID_HEADER,
            mail_builder::headers::text::Text::new(message_id),
        );
    if !email.cc.is_empty() {
        builder = builder.cc(list(&email.cc));
    }
    if !email.reply_to.is_empty() {
        builder = builder.reply_to(list(&email.reply_to));
    }
    builder = builder.body(body(email));
    let raw = builder.write_to_vec()?;
    if raw.len() > SES_MAX_MESSAGE_BYTES {
        let names: Vec<&str> = email.attachments.iter().map(|a| a.name.as_str()).collect();
        return Err(MimeError::TooLarge {
            bytes: raw.len(),
            attachments: names.join(", "),
        });
    }
    Ok(raw)
}

/// `multipart/mixed` (attachments) around `multipart/related` (inline
/// parts, referenced from html by `cid:`) around `multipart/alternative`
/// (text and html); each level only when needed.
fn body(email: &RenderedEmail) -> MimePart<'_> {
    let mut bodies = Vec::new();
    if let Some(text) = &email.text {
        bodies.push(MimePart::new("text/plain", text.as_str()));
    }
    if let Some(html) = &email.html {
        bodies.push(MimePart::new("text/html", html.as_str()));
    }
    let mut part = match bodies.len() {
        1 => bodies.remove(0),
        _ => MimePart::new("multipart/alternative", bodies),
    };
    let (inline, attached): (Vec<_>, Vec<_>) = email.attachments.iter().partition(|a| a.inline);
    if !inline.is_empty() {
        let mut related = vec![part];
        for a in inline {
            let cid = a.content_id.as_deref().unwrap_or(a.name.as_str());
            related.push(
                MimePart::new(a.content_type.as_str(), a.content.as_slice())
                    .inline()
                    .cid(cid),
            );
        }
        part = MimePart::new("multipart/related", related);
    }
    if !attached.is_empty() {
        let mut mixed = vec![part];
        for a in attached {
            mixed.push(
                MimePart::new(a.content_type.as_str(), a.content.as_slice())
                    .attachment(a.name.as_str()),
            );
        }
        part = MimePart::new("multipart/mixed", mixed);
    }
    part
}

fn address(mailbox: &Mailbox) -> Address<'_> {
    match &mailbox.name {
        Some(name) if !name.is_empty() => {
            Address::new_address(Some(name.as_str()), &mailbox.address)
        }
        _ => Address::new_address(None::<&str>, &mailbox.address),
    }
}

fn list(addresses: &[String]) -> Address<'_> {
    Address::new_list(
        addresses
            .iter()
            .map(|a| Address::new_address(None::<&str>, a.as_str()))
            .collect(),
    )
}
