/** The version graft records in `graft.pnda.io/status`; a unit test keeps it equal to package.json's. */
export const GRAFT_VERSION = "0.1.0";
