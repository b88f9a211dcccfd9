/**
 * Whose notebooks a pod syncs, from where and to where: the username (validated before it goes
 * anywhere), the repository URL and the folder.
 */
import { ANNOTATION } from "../../../core/annotations.js";
import type { Result } from "../../../core/result.js";
import { isValidNotebookUser, NOTEBOOK_USER_FORM } from "../../model/value-forms.js";

/**
 * KubeSpawner sets it twice: as an annotation, the username as JupyterHub normalised it (lowercase
 * by default); as a label, escaped to lowercase letters, digits and `-`.
 */
export const JUPYTERHUB_USERNAME = "hub.jupyter.org/username";

export type UserSource = { name: string; value: string };

/** A value from a pod, shown in a message so that nothing in it can break the message. */
function shown(value: string): string {
  const quoted = JSON.stringify(value);
  return quoted.length > 80 ? `${quoted.slice(0, 77)}…"` : quoted;
}

/**
 * Where the username comes from, first match wins: graft's own annotation (an explicit choice),
 * then KubeSpawner's annotation (the real name, as PNDA named the repos `jupyter-<user>`), then
 * KubeSpawner's label (escaped, so only right when the name needed no escaping).
 */
export function findNotebookUser(
  labels: Record<string, string> | undefined,
  annotations: Record<string, string> | undefined,
): UserSource | undefined {
  const sources: [string, string | undefined][] = [
    [`annotation ${ANNOTATION.notebooksUser}`, annotations?.[ANNOTATION.notebooksUser]],
    [`annotation ${JUPYTERHUB_USERNAME}`, annotations?.[JUPYTERHUB_USERNAME]],
    [`label ${JUPYTERHUB_USERNAME}`, labels?.[JUPYTERHUB_USERNAME]],
  ];
  for (const [name, value] of sources) {
    if (value !== undefined) return { name, value };
  }
  return undefined;
}

/** The username if it is safe to put in a URL path and a repository name, else why not. */
export function checkNotebookUser(source: UserSource): Result<string> {
  const { name, value } = source;
  if (isValidNotebookUser(value)) return { ok: true, value };
  return {
    ok: false,
    error:
      `${name} is ${shown(value)}, not a JupyterHub username graft can use: expected ` +
      `${NOTEBOOK_USER_FORM}; set ${ANNOTATION.notebooksUser} to the ` +
      `name of the user's repository (jupyter-<name>)`,
  };
}

/** The repository URL for a validated user: every `{user}` in the template replaced. */
export function notebookRepoUrl(template: string, user: string): string {
  return template.replaceAll("{user}", user);
}

/** The folder if it is an absolute path below some folder, with no `.`/`..` or empty segment. */
export function checkNotebookFolder(folder: string): Result<string> {
  const segments = folder.split("/").slice(1);
  const plain =
    folder.startsWith("/") &&
    segments.length >= 2 &&
    segments.every((segment) => segment !== "" && segment !== "." && segment !== "..") &&
    ![...folder].some((character) => character.charCodeAt(0) < 0x20);
  if (plain) return { ok: true, value: folder };
  return {
    ok: false,
    error: `notebooks.folder is ${shown(folder)}: expected an absolute path below a folder, such as /home/jovyan/apps-notebooks`,
  };
}
