//! Decides, once per export file, whether `03/04/24` means 3 April or
//! 4 March, and turns raw header fields into local date-times.
//!
//! The phone writes every line of one export in the same locale, so the
//! evidence of all lines is pooled: a first field above 12 proves day-first,
//! a second field above 12 proves month-first. When no field is above 12,
//! the order under which the messages run forward in time wins (exports are
//! chronological). Only if that ties too does the separator decide: `.` is a
//! day-first locale, `/` with a 12-hour clock is the US layout, anything else
//! is taken as day-first like most of the world (Kenya included).

use super::header::{Meridiem, RawDate, RawTime};
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum DateOrder {
    /// 31/12/2023
    DayFirst,
    /// 12/31/2023
    MonthFirst,
    /// 2023-12-31
    YearFirst,
}

/// Why the order was chosen, for the parse report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderEvidence {
    Override,
    YearFirstField,
    FirstFieldAbove12,
    SecondFieldAbove12,
    /// Fields over 12 were found in both positions; the majority won.
    ConflictingFields,
    Chronology,
    LocaleDefault,
}

pub fn detect_date_order(dates: &[RawDate], twelve_hour_clock: bool) -> (DateOrder, OrderEvidence) {
    let short: Vec<&RawDate> = dates.iter().filter(|date| !date.year_first).collect();
    if short.is_empty() {
        return (DateOrder::YearFirst, OrderEvidence::YearFirstField);
    }
    let first_over = short.iter().filter(|date| date.first > 12).count();
    let second_over = short.iter().filter(|date| date.second > 12).count();
    match (first_over, second_over) {
        (0, 0) => {}
        (_, 0) => return (DateOrder::DayFirst, OrderEvidence::FirstFieldAbove12),
        (0, _) => return (DateOrder::MonthFirst, OrderEvidence::SecondFieldAbove12),
        (day, month) => {
            let order = if day >= month { DateOrder::DayFirst } else { DateOrder::MonthFirst };
            return (order, OrderEvidence::ConflictingFields);
        }
    }
    let backwards_day_first = backward_steps(&short, DateOrder::DayFirst);
    let backwards_month_first = backward_steps(&short, DateOrder::MonthFirst);
    if backwards_day_first != backwards_month_first {
        let order = if backwards_day_first < backwards_month_first { DateOrder::DayFirst } else { DateOrder::MonthFirst };
        return (order, OrderEvidence::Chronology);
    }
    let us_layout = twelve_hour_clock && short.iter().all(|date| date.separator == '/');
    let order = if us_layout { DateOrder::MonthFirst } else { DateOrder::DayFirst };
    (order, OrderEvidence::LocaleDefault)
}

/// How often the sequence of dates goes back in time under `order`.
fn backward_steps(dates: &[&RawDate], order: DateOrder) -> usize {
    let mut steps = 0;
    let mut previous: Option<NaiveDate> = None;
    for date in dates {
        match to_date(**date, order) {
            Some(current) => {
                if previous.is_some_and(|previous| current < previous) {
                    steps += 1;
                }
                previous = Some(current);
            }
            None => steps += 1,
        }
    }
    steps
}

pub fn to_date(date: RawDate, order: DateOrder) -> Option<NaiveDate> {
    let (year, month, day) = if date.year_first {
        (date.first, date.second, date.third)
    } else {
        match order {
            DateOrder::DayFirst | DateOrder::YearFirst => (date.third, date.second, date.first),
            DateOrder::MonthFirst => (date.third, date.first, date.second),
        }
    };
    let year = if year < 100 { 2000 + year } else { year };
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

pub fn to_datetime(date: RawDate, time: RawTime, order: DateOrder) -> Option<NaiveDateTime> {
    let hour = match time.meridiem {
        None => time.hour,
        Some(Meridiem::Am) => time.hour % 12,
        Some(Meridiem::Pm) => time.hour % 12 + 12,
    };
    to_date(date, order)?.and_hms_opt(hour, time.minute, time.second)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(first: u32, second: u32, third: u32, separator: char) -> RawDate {
        RawDate { first, second, third, year_first: first > 999, separator }
    }

    #[test]
    fn field_evidence_decides_first() {
        let day_first = [date(3, 4, 24, '/'), date(13, 4, 24, '/')];
        assert_eq!(detect_date_order(&day_first, true), (DateOrder::DayFirst, OrderEvidence::FirstFieldAbove12));
        let month_first = [date(3, 4, 24, '/'), date(4, 13, 24, '/')];
        assert_eq!(detect_date_order(&month_first, false), (DateOrder::MonthFirst, OrderEvidence::SecondFieldAbove12));
        let iso = [date(2024, 4, 3, '-')];
        assert_eq!(detect_date_order(&iso, false), (DateOrder::YearFirst, OrderEvidence::YearFirstField));
    }

    #[test]
    fn chronology_decides_when_no_field_is_above_12() {
        // 2 Jan, 5 Jan, 9 Jan, 1 Feb read month-first; day-first would jump around.
        let dates = [date(1, 2, 24, '/'), date(1, 5, 24, '/'), date(1, 9, 24, '/'), date(2, 1, 24, '/')];
        assert_eq!(detect_date_order(&dates, false), (DateOrder::MonthFirst, OrderEvidence::Chronology));
        let dates = [date(2, 1, 24, '.'), date(5, 1, 24, '.'), date(9, 1, 24, '.'), date(1, 2, 24, '.')];
        assert_eq!(detect_date_order(&dates, false), (DateOrder::DayFirst, OrderEvidence::Chronology));
    }

    #[test]
    fn locale_default_breaks_a_tie() {
        let one_day = [date(3, 4, 24, '/')];
        assert_eq!(detect_date_order(&one_day, true), (DateOrder::MonthFirst, OrderEvidence::LocaleDefault));
        assert_eq!(detect_date_order(&one_day, false), (DateOrder::DayFirst, OrderEvidence::LocaleDefault));
        let dotted = [date(3, 4, 24, '.')];
        assert_eq!(detect_date_order(&dotted, true), (DateOrder::DayFirst, OrderEvidence::LocaleDefault));
    }

    #[test]
    fn twelve_hour_clock_maps_midnight_and_noon() {
        let day = date(31, 12, 23, '/');
        let at = |hour, meridiem| to_datetime(day, RawTime { hour, minute: 5, second: 0, meridiem }, DateOrder::DayFirst);
        let hour_of = |value: Option<NaiveDateTime>| value.map(|v| v.format("%H:%M").to_string());
        assert_eq!(hour_of(at(12, Some(Meridiem::Am))).as_deref(), Some("00:05"));
        assert_eq!(hour_of(at(12, Some(Meridiem::Pm))).as_deref(), Some("12:05"));
        assert_eq!(hour_of(at(9, Some(Meridiem::Pm))).as_deref(), Some("21:05"));
        assert_eq!(hour_of(at(9, None)).as_deref(), Some("09:05"));
    }

    #[test]
    fn impossible_dates_are_refused() {
        assert_eq!(to_date(date(31, 2, 24, '/'), DateOrder::DayFirst), None);
        assert_eq!(to_date(date(12, 31, 23, '/'), DateOrder::DayFirst), None);
        assert!(to_date(date(12, 31, 23, '/'), DateOrder::MonthFirst).is_some());
    }
}
