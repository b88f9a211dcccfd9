/** The field manager of every object graft writes (creates and server-side applies alike). */
export const FIELD_MANAGER = "graft";
