//! The schema: built once, one struct of field handles.

use tantivy::schema::{
    DateOptions, DateTimePrecision, Field, IndexRecordOption, NumericOptions, Schema,
    TextFieldIndexing, TextOptions, FAST, STORED, STRING,
};

use crate::analysis::{BIGRAM, TRIGRAM, UNIGRAM, WORDS};

/// Field handles. Names are part of the on-disk format: changing them requires a reindex.
#[derive(Clone, Debug)]
pub(crate) struct Fields {
    pub report_id: Field,
    pub case_id: Field,
    pub case_no: Field,
    pub external_id: Field,
    pub channel: Field,
    pub title: Field,
    pub text: Field,
    pub subject_name: Field,
    pub subject_exact: Field,
    pub subject_key: Field,
    pub subject_kind: Field,
    pub category: Field,
    pub locus: Field,
    pub place: Field,
    pub handling: Field,
    pub referral: Field,
    pub case_state: Field,
    pub received_at: Field,
    /// Facet columns: one value per document, always present ("" when none; multi-valued
    /// fields as the sorted values joined by commas), so that counting reads them in blocks.
    pub fc_category: Field,
    pub fc_referral: Field,
    pub fc_prefecture: Field,
    pub fc_county: Field,
    /// The facet values of a document packed into two columns (see [`crate::collect`]), so that
    /// counting all facets reads two columns instead of seven: kind, channel, state, referrals;
    /// and categories, county.
    pub fc_case: Field,
    pub fc_topic: Field,
    /// Bigrams of title, text, subject, place names and ids: 2-character queries.
    pub body: Field,
    /// Trigrams of the same text, with positions: queries of 3 characters and more.
    pub body_tri: Field,
    /// Unigrams of the same text: 1-character queries.
    pub body_uni: Field,
    /// Jieba words of title and text: ranking.
    pub words: Field,
    /// Bigrams of the title: ranking.
    pub title_gram: Field,
    /// Bigrams of the subject name: ranking.
    pub subject_gram: Field,
}

fn text_field(tokenizer: &str, record: IndexRecordOption) -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(record),
    )
}

pub(crate) fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let keyword = STRING | FAST | STORED;
    let f = Fields {
        report_id: b.add_i64_field(
            "report_id",
            NumericOptions::default()
                .set_indexed()
                .set_fast()
                .set_stored(),
        ),
        case_id: b.add_i64_field("case_id", NumericOptions::default().set_fast().set_stored()),
        case_no: b.add_text_field("case_no", STRING | STORED),
        external_id: b.add_text_field("external_id", STRING | STORED),
        channel: b.add_text_field("channel", keyword.clone()),
        title: b.add_text_field("title", STORED),
        text: b.add_text_field("text", STORED),
        subject_name: b.add_text_field("subject_name", STORED),
        subject_exact: b.add_text_field("subject_exact", STRING),
        subject_key: b.add_text_field("subject_key", STRING),
        subject_kind: b.add_text_field("subject_kind", keyword.clone()),
        category: b.add_text_field("category", STRING | STORED),
        locus: b.add_text_field("locus", STRING | STORED),
        place: b.add_text_field("place", STRING),
        handling: b.add_text_field("handling", STRING | STORED),
        referral: b.add_text_field("referral", STRING | STORED),
        case_state: b.add_text_field("case_state", keyword),
        received_at: b.add_date_field(
            "received_at",
            DateOptions::default()
                .set_indexed()
                .set_fast()
                .set_stored()
                .set_precision(DateTimePrecision::Seconds),
        ),
        fc_category: b.add_text_field("fc_category", FAST),
        fc_referral: b.add_text_field("fc_referral", FAST),
        fc_prefecture: b.add_text_field("fc_prefecture", FAST),
        fc_county: b.add_text_field("fc_county", FAST),
        fc_case: b.add_text_field("fc_case", FAST),
        fc_topic: b.add_text_field("fc_topic", FAST),
        body: b.add_text_field("body", text_field(BIGRAM, IndexRecordOption::WithFreqs)),
        body_tri: b.add_text_field(
            "body_tri",
            text_field(TRIGRAM, IndexRecordOption::WithFreqsAndPositions),
        ),
        body_uni: b.add_text_field(
            "body_uni",
            text_field(UNIGRAM, IndexRecordOption::WithFreqs),
        ),
        words: b.add_text_field(
            "words",
            text_field(WORDS, IndexRecordOption::WithFreqsAndPositions),
        ),
        title_gram: b.add_text_field(
            "title_gram",
            text_field(BIGRAM, IndexRecordOption::WithFreqsAndPositions),
        ),
        subject_gram: b.add_text_field(
            "subject_gram",
            text_field(BIGRAM, IndexRecordOption::WithFreqsAndPositions),
        ),
    };
    (b.build(), f)
}
