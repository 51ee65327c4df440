/**
 * Why a backup or restore stopped, said so an operator can act on it: one line, naming the file or
 * blob and what to do. The CLI prints it as it is.
 */
export class BackupError extends Error {}
