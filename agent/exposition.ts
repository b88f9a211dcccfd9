/**
 * The agent's /metrics as Prometheus text (exposition format 0.0.4), without prom-client: a few
 * gauges, counters and one histogram need a map per metric and a writer, not a library that
 * loads OpenTelemetry's API, a t-digest and a cluster aggregator into every pod. The output is
 * byte for byte what prom-client renders for the same state (exposition.test.ts compares them):
 * families in the order they were made, series in the order they were first set (a removed one
 * goes to the end when set again), label values escaped (backslash, double quote, line feed),
 * HELP escaped (backslash, line feed), a blank line between families.
 */

export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type Labels<L extends string> = Readonly<Record<L, string>>;

export type FamilyDefinition<L extends string> = {
  name: string;
  help: string;
  labelNames?: readonly L[];
};

export type Gauge<L extends string> = {
  set: (labels: Labels<L>, value: number) => void;
  remove: (labels: Labels<L>) => void;
};

export type Counter<L extends string> = {
  /** Adds `by` (default 1; 0 makes the series appear at 0). Counters never go down. */
  inc: (labels: Labels<L>, by?: number) => void;
};

export type Histogram<L extends string> = {
  observe: (labels: Labels<L>, value: number) => void;
};

type Buckets = { labels: readonly string[]; counts: number[]; sum: number; count: number };

/** A default label: its name, and its name="value" as written. */
type DefaultLabel = { name: string; text: string };

type Family = {
  name: string;
  help: string;
  type: "gauge" | "counter" | "histogram";
  lines: (defaults: readonly DefaultLabel[]) => string[];
};

/** The default labels a family's series carry: those it has no label of its own for. */
function defaultsFor(defaults: readonly DefaultLabel[], own: readonly string[]): string[] {
  return defaults.filter(({ name }) => !own.includes(name)).map(({ text }) => text);
}

/** prom-client's number format: Nan (sic), +Inf and -Inf, else JavaScript's own. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "Nan";
  if (!Number.isFinite(value)) return value < 0 ? "-Inf" : "+Inf";
  return `${value}`;
}

const escapeHelp = (text: string) => text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
const escapeLabelValue = (value: string) => escapeHelp(value).replaceAll('"', '\\"');
const pair = (name: string, value: string) => `${name}="${escapeLabelValue(value)}"`;
const braces = (parts: readonly string[]) => (parts.length === 0 ? "" : `{${parts.join(",")}}`);

/** A family's series, by their label values; a removed series set again goes to the end. */
class Series<L extends string, V> {
  readonly #names: readonly L[];
  readonly #byKey = new Map<string, { labels: readonly string[]; value: V }>();

  constructor(names: readonly L[]) {
    this.#names = names;
  }

  #key(labels: Labels<L>): string {
    return JSON.stringify(this.#names.map((name) => labels[name]));
  }

  /** The series for `labels`, made with `initial` when new. */
  at(labels: Labels<L>, initial: () => V): { value: V } {
    const key = this.#key(labels);
    let entry = this.#byKey.get(key);
    if (!entry) {
      const missing = this.#names.find((name) => typeof labels[name] !== "string");
      if (missing !== undefined) throw new Error(`label "${missing}" has no value`);
      entry = { labels: this.#names.map((name) => pair(name, labels[name])), value: initial() };
      this.#byKey.set(key, entry);
    }
    return entry;
  }

  delete(labels: Labels<L>): void {
    this.#byKey.delete(this.#key(labels));
  }

  entries(): IterableIterator<{ labels: readonly string[]; value: V }> {
    return this.#byKey.values();
  }
}

/** The registry: the families in the order they were made, rendered on each scrape. */
export class Exposition {
  readonly contentType = EXPOSITION_CONTENT_TYPE;
  readonly #families: Family[] = [];
  readonly #names = new Set<string>();
  #defaults: Array<[string, string]> = [];

  /** Labels on every series (the agent's app and component), after each series' own. */
  setDefaultLabels(labels: Readonly<Record<string, string>>): void {
    this.#defaults = Object.entries(labels);
  }

  gauge<L extends string = never>(definition: FamilyDefinition<L>): Gauge<L> {
    const series = this.#simple(definition, "gauge");
    return {
      set: (labels, value) => {
        series.at(labels, () => 0).value = value;
      },
      remove: (labels) => series.delete(labels),
    };
  }

  counter<L extends string = never>(definition: FamilyDefinition<L>): Counter<L> {
    const series = this.#simple(definition, "counter");
    return {
      inc: (labels, by = 1) => {
        if (!(by >= 0)) throw new Error(`${definition.name}: a counter goes up, not by ${by}`);
        series.at(labels, () => 0).value += by;
      },
    };
  }

  /** One unlabelled sample read at each scrape (the process's memory and CPU). */
  reading(
    definition: Omit<FamilyDefinition<never>, "labelNames">,
    type: "gauge" | "counter",
    read: () => number,
  ): void {
    this.#add({
      name: definition.name,
      help: definition.help,
      type,
      lines: (defaults) => [`${definition.name}${braces(defaultsFor(defaults, []))} ${formatValue(read())}`],
    });
  }

  histogram<L extends string = never>(
    definition: FamilyDefinition<L> & { buckets: readonly number[] },
  ): Histogram<L> {
    const { name, buckets } = definition;
    const names = definition.labelNames ?? [];
    const series = new Series<L, Buckets>(names);
    const fresh = (): Buckets => ({ labels: [], counts: buckets.map(() => 0), sum: 0, count: 0 });
    if (names.length === 0) series.at({} as Labels<L>, fresh);
    this.#add({
      name,
      help: definition.help,
      type: "histogram",
      lines: (defaults) => {
        const shared = defaultsFor(defaults, names);
        const lines: string[] = [];
        for (const { labels, value } of series.entries()) {
          let cumulative = 0;
          buckets.forEach((bound, i) => {
            cumulative += value.counts[i]!;
            lines.push(`${name}_bucket${braces([`le="${bound}"`, ...shared, ...labels])} ${cumulative}`);
          });
          lines.push(
            `${name}_bucket${braces(['le="+Inf"', ...shared, ...labels])} ${value.count}`,
            `${name}_sum${braces([...shared, ...labels])} ${formatValue(value.sum)}`,
            `${name}_count${braces([...shared, ...labels])} ${value.count}`,
          );
        }
        return lines;
      },
    });
    return {
      observe: (labels, value) => {
        if (!Number.isFinite(value)) throw new Error(`${name}: cannot observe ${value}`);
        const entry = series.at(labels, fresh).value;
        const i = buckets.findIndex((bound) => value <= bound);
        if (i !== -1) entry.counts[i]!++;
        entry.sum += value;
        entry.count++;
      },
    };
  }

  /** The text a scrape gets. */
  render(): string {
    const defaults = this.#defaults.map(([name, value]) => ({ name, text: pair(name, value) }));
    const blocks = this.#families.map((family) => {
      const own = family.lines(defaults);
      return [
        `# HELP ${family.name} ${escapeHelp(family.help)}`,
        `# TYPE ${family.name} ${family.type}`,
        ...own,
      ].join("\n");
    });
    return `${blocks.join("\n\n")}\n`;
  }

  #simple<L extends string>(definition: FamilyDefinition<L>, type: "gauge" | "counter"): Series<L, number> {
    const names = definition.labelNames ?? [];
    const series = new Series<L, number>(names);
    // Without labels the one series exists from the start, at 0 (as prom-client has it).
    if (names.length === 0) series.at({} as Labels<L>, () => 0);
    this.#add({
      name: definition.name,
      help: definition.help,
      type,
      lines: (defaults) => {
        const extra = defaultsFor(defaults, names);
        return Array.from(
          series.entries(),
          ({ labels, value }) => `${definition.name}${braces([...labels, ...extra])} ${formatValue(value)}`,
        );
      },
    });
    return series;
  }

  #add(family: Family): void {
    if (this.#names.has(family.name)) throw new Error(`a metric named ${family.name} exists already`);
    this.#names.add(family.name);
    this.#families.push(family);
  }
}
