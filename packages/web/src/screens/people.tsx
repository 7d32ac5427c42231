/** People of a site: the list (a page at a time) and the site picker. */
import { useCallback, useEffect, useEffectEvent, useState } from "react";
import { api } from "../api/client.js";
import type { PeoplePage, Person, Site } from "../api/types.js";
import { navigate } from "../ui/router.js";
import { ErrorAlert, PageTitle, Spinner, useAction, useLoad } from "../ui/components.js";

const SITE_KEY = "latchkey.site";

export function rememberSite(siteId: string): void {
  try {
    localStorage.setItem(SITE_KEY, siteId);
  } catch {
    // Storage may be disabled; the choice is then simply not remembered.
  }
}

function rememberedSite(): string | null {
  try {
    return localStorage.getItem(SITE_KEY);
  } catch {
    return null;
  }
}

const loadSites = () => api.get<{ items: Site[] }>("/sites");

/** `/people` and `/activity`: go to the remembered (or first) site's page. */
export function PeopleRedirect({ target }: { target: "people" | "activity" }) {
  const sites = useLoad(loadSites);
  useEffect(() => {
    const list = sites.data?.items;
    if (list === undefined || list.length === 0) return;
    const wanted = rememberedSite();
    const site = list.find((s) => s.id === wanted) ?? list[0];
    if (site !== undefined) window.location.replace(`#/sites/${site.id}/${target}`);
  }, [sites.data, target]);
  if (sites.data?.items.length === 0)
    return (
      <div className="stack">
        <PageTitle>{target === "people" ? "People" : "Activity"}</PageTitle>
        <p>
          There is no site yet. <a href="#/sites">Create a site</a> first; people and their access belong to a
          site.
        </p>
      </div>
    );
  return sites.error === null ? <Spinner /> : <ErrorAlert error={sites.error} />;
}

export function SitePicker({ siteId, target }: { siteId: string; target: "people" | "activity" }) {
  const sites = useLoad(loadSites);
  const list = sites.data?.items ?? [];
  if (list.length < 2) return null;
  return (
    <div className="field inline-field">
      <label htmlFor="site-picker">Site</label>
      <select
        id="site-picker"
        value={siteId}
        onChange={(e) => {
          rememberSite(e.target.value);
          navigate(`/sites/${e.target.value}/${target}`);
        }}
      >
        {list.map((s) => (
          <option key={s.id} value={s.id}>
            {s.name}
          </option>
        ))}
      </select>
    </div>
  );
}

export function PeopleScreen({ siteId }: { siteId: string }) {
  useEffect(() => rememberSite(siteId), [siteId]);
  const site = useLoad(useCallback(() => api.get<Site>(`/sites/${siteId}`), [siteId]));
  const [people, setPeople] = useState<Person[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const more = useAction();
  const load = (after: string | null) =>
    more.run(async () => {
      const page = await api.get<PeoplePage>(
        `/sites/${siteId}/people?limit=50${after === null ? "" : `&after=${after}`}`,
      );
      setPeople((prev) => [...(after === null ? [] : (prev ?? [])), ...page.items]);
      setNext(page.nextAfter);
    });
  const loadFirst = useEffectEvent(() => void load(null));
  // The first page when shown and when the site changes.
  useEffect(() => loadFirst(), [siteId]);

  const sorted = people === null ? null : [...people].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <div className="stack">
      <div className="title-row">
        <PageTitle lead={site.data === null ? undefined : `Everyone with access at ${site.data.name}.`}>
          People
        </PageTitle>
        <a className="button primary" href={`#/sites/${siteId}/people/new`}>
          Add a person
        </a>
      </div>
      <SitePicker siteId={siteId} target="people" />
      <ErrorAlert error={site.error ?? more.error} />
      {sorted === null ? (
        more.error === null ? (
          <Spinner />
        ) : null
      ) : sorted.length === 0 ? (
        <section className="card stack empty">
          <h2>No one yet</h2>
          <p>
            Add the people who may open doors here: family and residents with everyday access, or a cleaner,
            dog walker or contractor with access only at certain times.
          </p>
        </section>
      ) : (
        <ul className="list card" aria-label="People">
          {sorted.map((p) => (
            <li key={p.id} className="list-row">
              <div className="list-main">
                <a href={`#/people/${p.id}`}>
                  <strong>{p.name}</strong>
                </a>
                <span className="muted small">
                  {[p.phone, p.email].filter((x) => x !== null).join(" · ") || "No contact details"}
                </span>
              </div>
            </li>
          ))}
        </ul>
      )}
      {next === null ? null : (
        <div className="actions">
          <button
            type="button"
            className="button secondary"
            disabled={more.busy}
            onClick={() => void load(next)}
          >
            Show more
          </button>
        </div>
      )}
    </div>
  );
}
