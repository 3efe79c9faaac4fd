/**
 * Times as find prints them: `strftime()` conversions in local time (the C
 * locale's names), find's nanosecond suffixes, and `ctime()`'s layout.
 *
 * `%Z` is the zone name Intl gives (`UTC`, `CET`, or `GMT+1` where Intl has
 * no abbreviation, where glibc may print one).
 *
 * @module
 */

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** Zero-pads `n` to `width` digits. */
function pad(n: number, width = 2, fill = "0"): string {
  return String(n).padStart(width, fill);
}

/** Day of the year, 0-based. */
function yearDay(d: Date): number {
  const start = new Date(d.getFullYear(), 0, 1);
  // Whole days between local midnights (DST shifts by an hour at most)
  return Math.round(
    (new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime() -
      start.getTime()) / 86_400_000,
  );
}

/** ISO 8601 week-based year and week number. */
function isoWeek(d: Date): [number, number] {
  const wday = (d.getDay() + 6) % 7; // Monday 0
  const yday = yearDay(d);
  let year = d.getFullYear();
  let week = Math.floor((yday - wday + 10) / 7);
  if (week < 1) {
    year--;
    const last = new Date(year, 11, 31);
    week = isoWeek(last)[1];
  } else if (week === 53) {
    const dec31 = (new Date(year, 11, 31).getDay() + 6) % 7;
    if (dec31 < 3) {
      year++;
      week = 1;
    }
  }
  return [year, week];
}

/** The zone's abbreviation at `d`. */
function zoneName(d: Date): string {
  const part = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" }).formatToParts(d)
    .find((p) => p.type === "timeZoneName");
  return part?.value ?? "";
}

/** The zone's offset at `d` as +hhmm. */
function zoneOffset(d: Date): string {
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? "-" : "+";
  const abs = Math.abs(off);
  return `${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}

/** One strftime() conversion of `d` (C locale); unknown ones are kept as `%c`. */
export function strftime(conv: string, d: Date, sec: number): string {
  const h = d.getHours();
  switch (conv) {
    case "a":
      return DAYS[d.getDay()].slice(0, 3);
    case "A":
      return DAYS[d.getDay()];
    case "b":
    case "h":
      return MONTHS[d.getMonth()].slice(0, 3);
    case "B":
      return MONTHS[d.getMonth()];
    case "c":
      return `${strftime("a", d, sec)} ${strftime("b", d, sec)} ${strftime("e", d, sec)} ${
        strftime("T", d, sec)
      } ${d.getFullYear()}`;
    case "C":
      return pad(Math.floor(d.getFullYear() / 100));
    case "d":
      return pad(d.getDate());
    case "D":
    case "x":
      return `${pad(d.getMonth() + 1)}/${pad(d.getDate())}/${pad(d.getFullYear() % 100)}`;
    case "e":
      return pad(d.getDate(), 2, " ");
    case "F":
      return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
    case "g":
      return pad(isoWeek(d)[0] % 100);
    case "G":
      return String(isoWeek(d)[0]);
    case "H":
      return pad(h);
    case "I":
      return pad(h % 12 === 0 ? 12 : h % 12);
    case "j":
      return pad(yearDay(d) + 1, 3);
    case "k":
      return pad(h, 2, " ");
    case "l":
      return pad(h % 12 === 0 ? 12 : h % 12, 2, " ");
    case "m":
      return pad(d.getMonth() + 1);
    case "M":
      return pad(d.getMinutes());
    case "n":
      return "\n";
    case "p":
      return h < 12 ? "AM" : "PM";
    case "r":
      return `${strftime("I", d, sec)}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${
        strftime("p", d, sec)
      }`;
    case "R":
      return `${pad(h)}:${pad(d.getMinutes())}`;
    case "s":
      return String(sec);
    case "S":
      return pad(d.getSeconds());
    case "t":
      return "\t";
    case "T":
    case "X":
      return `${pad(h)}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    case "u":
      return String(d.getDay() === 0 ? 7 : d.getDay());
    case "U":
      return pad(Math.floor((yearDay(d) + 7 - d.getDay()) / 7));
    case "V":
      return pad(isoWeek(d)[1]);
    case "w":
      return String(d.getDay());
    case "W":
      return pad(Math.floor((yearDay(d) + 7 - ((d.getDay() + 6) % 7)) / 7));
    case "y":
      return pad(d.getFullYear() % 100);
    case "Y":
      return String(d.getFullYear());
    case "z":
      return zoneOffset(d);
    case "Z":
      return zoneName(d);
    case "%":
      return "%";
    default:
      return `%${conv}`;
  }
}

/** find's fractional suffix: 9 digits of nanoseconds and a 0. */
function fraction(nsec: number): string {
  return `.${pad(nsec, 9)}0`;
}

/**
 * A `%A`, `%C`, `%T` (or `%B`) conversion as find does it: `@` is seconds
 * since the epoch with the fraction, `+` is `%Y-%m-%d+%T` with the fraction,
 * and `S`, `T`, `X` get the fraction after their seconds.
 */
export function formatTime(conv: string, sec: number, nsec: number): string {
  if (conv === "@") return `${sec}${fraction(nsec)}`;
  const d = new Date(sec * 1000);
  if (conv === "+") return `${strftime("F", d, sec)}+${strftime("T", d, sec)}${fraction(nsec)}`;
  const text = strftime(conv, d, sec);
  return conv === "S" || conv === "T" || conv === "X" ? text + fraction(nsec) : text;
}

/** `%a`, `%c`, `%t`: ctime()'s layout with find's fraction: `Wed Mar  4 05:06:07.1234567890 2026`. */
export function ctimeFormat(sec: number, nsec: number): string {
  const d = new Date(sec * 1000);
  return `${strftime("a", d, sec)} ${strftime("b", d, sec)} ${strftime("e", d, sec)} ${
    strftime("T", d, sec)
  }${fraction(nsec)} ${pad(d.getFullYear(), 4)}`;
}
