//! Opting links out of SES click tracking with the `ses:no-track` attribute.

/// Adds `ses:no-track` to every `<a …>` tag that does not have it yet.
pub fn mark_links_no_track(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + 64);
    let mut rest = html;
    while let Some(at) = find_anchor(rest) {
        let tag_end = rest[at..].find('>').map_or(rest.len(), |e| at + e);
        let tag = &rest[at..tag_end];
        out.push_str(&rest[..at + 2]);
        if !tag.to_ascii_lowercase().contains("ses:no-track") {
            out.push_str(" ses:no-track");
        }
        rest = &rest[at + 2..];
    }
    out.push_str(rest);
    out
}

/// Byte offset of the next `<a` that opens an anchor tag (`<a ` or `<a>`).
fn find_anchor(html: &str) -> Option<usize> {
    let bytes = html.as_bytes();
    (0..bytes.len().saturating_sub(2)).find(|&i| {
        bytes[i] == b'<'
            && bytes[i + 1].eq_ignore_ascii_case(&b'a')
            && (bytes[i + 2].is_ascii_whitespace() || bytes[i + 2] == b'>')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_anchor_gets_the_attribute_once() {
        let html = r#"<p><a href="https://x.test/1">one</a> <A HREF="/2">two</A> <abbr>x</abbr> <a ses:no-track href="/3">3</a></p>"#;
        assert_eq!(
            mark_links_no_track(html),
            r#"<p><a ses:no-track href="https://x.test/1">one</a> <A ses:no-track HREF="/2">two</A> <abbr>x</abbr> <a ses:no-track href="/3">3</a></p>"#
        );
        assert_eq!(mark_links_no_track("no links"), "no links");
        assert_eq!(mark_links_no_track("<a>"), "<a ses:no-track>");
    }
}
