/** A setting that is missing, malformed or contradicts another; its message names the setting. */
export class ConfigError extends Error {}
