import { stageFolder } from './bench/lib/cp-stage-folder.js';
const f = await stageFolder('rss', Number(process.argv[2] ?? 10000), false);
console.log(f.dir);
