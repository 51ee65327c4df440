// Imports a module of the compiled build, or says in one line how to make the build when it is missing.
export async function loadBuilt(module) {
  const url = new URL(`../dist/${module}`, import.meta.url);
  try {
    await import(url.href);
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes(url.pathname)) throw error;
    process.stderr.write(`berth: ${url.pathname} is missing: run \`npm run build\` (or \`npm install\`) in ${new URL('..', import.meta.url).pathname}\n`);
    process.exit(1);
  }
}
