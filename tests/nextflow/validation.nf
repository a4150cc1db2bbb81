/*
    The pipeline's own input checks (subworkflows/local/utils_splamflow_pipeline) and scatter/gather
    helpers (subworkflows/splamflow/bed_score_cohort_splamflow), called by the real Nextflow on the committed samplesheets and
    on bad ones written here: many cases in one run, where a pipeline run per case would cost a
    Nextflow start each. tests/nextflow/test_validation.py runs it:
        nextflow run tests/nextflow/validation.nf --root <repository> --scratch <empty folder>
    Prints "validation: N checks passed", or fails naming every check that did not hold.
*/

include { readSamplesheet; delimitedRecords; checkParameters; fastaIndexes; annotationMeta; modelFiles; shippedModels; isModelName; modelProblem; typedValue; processSettings; scoreProcess; localGpuTurns; slurmGpuNote; precisionProblem; condaProblem; requestsGpu; acceleratorNote } from '../../subworkflows/local/utils_splamflow_pipeline'
include { chunkIndex; chunksInOrder; chunkTasks } from '../../subworkflows/splamflow/bed_score_cohort_splamflow'

workflow {

    main:
    def failures = []
    def passed = 0
    def root = file(params.root)
    def scratch = file(params.scratch)
    def data = root.resolve('tests/data')
    def sheets = root.resolve('tests/workflow/samplesheets')
    def schema_input = root.resolve('assets/schema_input.json')
    def schema = new groovy.json.JsonSlurper().parseText(root.resolve('nextflow_schema.json').text)
    def bam = data.resolve('chr20_slice.bam').toString()

    def cases = []

    // committed samplesheets: their paths are relative to the repository, launched from there
    def valid = readSamplesheet(sheets.resolve('valid.csv'), schema_input, root, true)
    cases << [valid.problems == [], "valid.csv has no problem: ${valid.problems}"]
    cases << [valid.rows.collect { row -> row[0] } == [[id: 's1', type: 'alignments'], [id: 's2', type: 'alignments']], "valid.csv metas: ${valid.rows}"]
    cases << [valid.rows.every { row -> row[1] == data.resolve('chr20_slice.bam') }, 'valid.csv: BAM resolved against the launch folder']
    cases << [valid.rows[1][2] == data.resolve('chr20_slice.bam.bai'), 'valid.csv: index found next to the BAM when the bai cell is empty']
    def test_sheet = readSamplesheet(root.resolve('assets/samplesheet_test.csv'), schema_input, root, true)
    cases << [test_sheet.problems == [] && test_sheet.rows.size() == 1 && test_sheet.rows[0][0].id == 'chr20_rnaseq', "test samplesheet: ${test_sheet}"]

    // bad samplesheets: each must give the problem quoted
    def expected = [
        [sheets.resolve('duplicate_sample.csv'), "duplicate_sample.csv line 4: sample 's1' repeats line 2"],
        [sheets.resolve('missing_bam_column.csv'), 'missing_bam_column.csv line 1: missing column(s) bam'],
        [sheets.resolve('missing_bam_file.csv'), 'missing_bam_file.csv line 2: bam: file not found'],
        [sheets.resolve('unknown_column.csv'), 'unknown_column.csv line 1: unknown column(s) condition'],
        [writeSheet(scratch, 'empty.csv', ''), 'empty samplesheet'],
        [writeSheet(scratch, 'header_only.csv', 'sample,bam\n'), 'no samples below the header line'],
        [writeSheet(scratch, 'fields.csv', "sample,bam\ns1,${bam},extra\n"), 'fields.csv line 2: 3 fields, the header has 2'],
        [writeSheet(scratch, 'empty_cell.csv', "sample,bam\n,${bam}\n"), 'empty_cell.csv line 2: sample is empty'],
        [writeSheet(scratch, 'bad_id.csv', "sample,bam\nmy sample,${bam}\n"), 'bad_id.csv line 2: sample: sample must start with a letter or digit'],
        [writeSheet(scratch, 'not_bam.csv', "sample,bam\ns1,${data.resolve('chr20_slice.gtf')}\n"), 'not_bam.csv line 2: bam: bam must be a path ending in .bam or .cram'],
        [writeSheet(scratch, 'bad_bai.csv', "sample,bam,bai\ns1,${bam},${data.resolve('chr20_slice.gtf')}\n"), 'bad_bai.csv line 2: bai: bai must be a path ending in .bai, .csi or .crai'],
        [writeSheet(scratch, 'repeated.csv', "sample,bam,bam\ns1,${bam},${bam}\n"), 'repeated.csv line 1: column(s) bam appear more than once']
    ]
    expected.each { sheet, text ->
        def problems = readSamplesheet(sheet, schema_input, root, true).problems
        cases << [problems.any { message -> message.contains(text) }, "expected '${text}' in ${problems}"]
    }
    def blank = readSamplesheet(writeSheet(scratch, 'blank_lines.csv', "sample,bam\n\ns1,${bam}\n\n"), schema_input, root, true)
    cases << [blank.problems == [] && blank.rows.size() == 1, "blank lines are skipped: ${blank}"]
    def bom = readSamplesheet(writeSheet(scratch, 'bom.csv', "\uFEFFsample,bam\r\ns1,${bam}\r\n"), schema_input, root, true)
    cases << [bom.problems == [] && bom.rows.size() == 1 && bom.rows[0][0].id == 's1', "a UTF-8 byte order mark is skipped: ${bom}"]
    def several = readSamplesheet(writeSheet(scratch, 'several.csv', "sample,bam\ns1,${bam}\ns1,${bam}\ns2,/nope.bam\n"), schema_input, root, true)
    cases << [several.problems.size() == 2, "every problem is reported at once: ${several.problems}"]

    // an rnaseq-style launch: the sheet in a subfolder, paths relative to the launch folder (here
    // `launch`), not to the sheet's folder; quoted fields (RFC 4180), TSV, CRAM rows
    def launch = scratch.resolve('launch')
    ['data/s,1.bam', 'data/q"2.bam', 'data/s3.cram', 'data/s3.cram.crai', 'data/s4.bam', 'data/s4.bam.csi'].each { name ->
        launch.resolve(name).parent.mkdirs()
        launch.resolve(name).text = 'x'
    }
    def folder = launch.resolve('sheets')
    folder.mkdirs()
    def quoted = readSamplesheet(writeSheet(folder, 'rnaseq.csv', 'sample,bam,bai,\r\n"s1","data/s,1.bam",\r\ns2,"data/q""2.bam",""\n s3 ,data/s3.cram\ns4,data/s4.bam,,\n'), schema_input, launch, true)
    cases << [quoted.problems == [], "rnaseq-style sheet (quotes, CRLF, trailing separators): ${quoted.problems}"]
    cases << [quoted.rows.collect { row -> [row[0].id, row[1], row[2]] } == [
        ['s1', launch.resolve('data/s,1.bam'), []],
        ['s2', launch.resolve('data/q"2.bam'), []],
        ['s3', launch.resolve('data/s3.cram'), launch.resolve('data/s3.cram.crai')],
        ['s4', launch.resolve('data/s4.bam'), launch.resolve('data/s4.bam.csi')]
    ], "rows resolved against the launch folder, quotes undone, indexes found beside: ${quoted.rows}"]
    def tsv = readSamplesheet(writeSheet(folder, 'rnaseq.tsv', 'sample\tbam\tbai\ns1\tdata/s,1.bam\n"s3"\t"data/s3.cram"\tdata/s3.cram.crai\n'), schema_input, launch, true)
    cases << [tsv.problems == [] && tsv.rows.collect { row -> [row[1].name, row[2]] } == [['s,1.bam', []], ['s3.cram', launch.resolve('data/s3.cram.crai')]], "TSV by its extension: ${tsv}"]
    def as_tsv = readSamplesheet(writeSheet(folder, 'commas.tsv', 'sample,bam\ns1,data/s4.bam\n'), schema_input, launch, true)
    cases << [as_tsv.problems.any { message -> message.contains('commas.tsv line 1: missing column(s) sample, bam') }, "a .tsv is read with tabs: ${as_tsv.problems}"]
    def relative = readSamplesheet(writeSheet(folder, 'relative.csv', 'sample,bam\ns1,data/s4.bam\n'), schema_input, folder, true)
    cases << [relative.problems == ["relative.csv line 2: bam: file not found: ${folder.resolve('data/s4.bam')}".toString()], "paths are the base's, not the sheet's: ${relative.problems}"]
    // every row's problems at once, each on the line where its record starts (a quoted line break moves them)
    def broken = readSamplesheet(writeSheet(folder, 'broken.csv', [
        'sample,bam,bai',
        's1,data/nope.bam,',                  // line 2
        '"s 2\nwrapped",data/s4.bam',          // lines 3-4
        's1,data/s3.cram,data/s4.bam.csi',    // line 5
        's5,data/s3.cram',                    // line 6
        's6,data/s4.bam,data/s3.cram.crai',   // line 7
        's7,data/"q".bam',                    // line 8
        '"s8"x,data/s4.bam',                  // line 9
        's9,data/s4.bam,,,extra',             // line 10
        's4,"data/s4.bam'                     // line 11, never closed
    ].join('\n') + '\n'), schema_input, launch, false)
    def wanted = [
        "broken.csv line 2: bam: file not found: ${launch.resolve('data/nope.bam')}",
        'broken.csv line 3: sample: sample must start with a letter or digit',
        'broken.csv line 5: bam: data/s3.cram is a CRAM: give --fasta, the genome it was compressed against',
        'broken.csv line 5: bai: a CRAM is indexed by a .crai file, not data/s4.bam.csi',
        "broken.csv line 5: sample 's1' repeats line 2",
        'broken.csv line 6: bam: data/s3.cram is a CRAM: give --fasta',
        'broken.csv line 7: bai: a BAM is indexed by a .bai or .csi file, not data/s3.cram.crai',
        'broken.csv line 8: a double quote inside an unquoted field',
        'broken.csv line 9: text after the closing double quote of a field',
        'broken.csv line 10: 5 fields, the header has 3',
        'broken.csv line 11: a quoted field is not closed before the end of the file'
    ]
    wanted.each { text ->
        cases << [broken.problems.count { message -> message.startsWith(text.toString()) } == 1, "expected '${text}' once in ${broken.problems}"]
    }
    cases << [broken.problems.size() == wanted.size() && broken.rows == [], "exactly these problems: ${broken.problems}"]
    def records = delimitedRecords('a,"b\n""c"""\n\nd\t"e\tf"\n', ',', file('/x.csv')).records.collect { record -> [record.line, record.problem ? 'problem' : record.cells] }
    cases << [records == [[1, ['a', 'b\n"c"']], [4, 'problem']], "RFC 4180 records and their lines (a quote inside an unquoted field): ${records}"]
    def tabs = delimitedRecords('d\t"e\tf"\n', '\t', file('/x.tsv')).records.collect { record -> record.cells }
    cases << [tabs == [['d', 'e\tf']], "a tab inside quotes in a TSV: ${tabs}"]

    // FASTA indexes: all beside the FASTA, or [] (then PREPARE_GENOME writes them)
    def slice = data.resolve('chr20_slice.fa.gz')
    cases << [fastaIndexes(slice.toString()) == [data.resolve('chr20_slice.fa.gz.fai'), data.resolve('chr20_slice.fa.gz.gzi')], 'indexed bgzip FASTA']
    cases << [fastaIndexes(root.resolve('tests/workflow/data/no_index.fa').toString()) == [], 'plain FASTA without .fai']
    def gz = scratch.resolve('genome.fa.gz')
    gz.text = 'x'
    scratch.resolve('genome.fa.gz.fai').text = 'x'
    cases << [fastaIndexes(gz.toString()) == [], '.gz FASTA without .gzi']

    // parameters against nextflow_schema.json, as the legacy parser (typed) and the strict parser (text) give them
    def good = [fasta: data.resolve('chr20_slice.fa.gz').toString(), outdir: 'results', threshold: 0.1, score_chunk_size: 500000,
                precision: 'fp32', paired: false, infer_strand: 'none', publish_dir_mode: 'copy', help: false]
    def defaults = checkParameters(good, schema)
    cases << [defaults.problems == [] && defaults.warnings == [], "defaults validate: ${defaults}"]
    def as_text = checkParameters(good + [threshold: '0.05', score_chunk_size: '50', paired: 'true', batch_size: '256'], schema)
    cases << [as_text.problems == [], "parameters given as text validate: ${as_text.problems}"]
    cases << [as_text.typed.threshold == 0.05 && as_text.typed.score_chunk_size == 50 && as_text.typed.paired == true && as_text.typed.batch_size == 256, "typed: ${as_text.typed}"]
    cases << [checkParameters(good + [paired: 'FALSE'], schema).typed.paired == false, "'FALSE' is false"]
    def bad_params = [
        [[fasta: null], '--fasta is required'],
        [[outdir: null], '--outdir is required'],
        [[threshold: 2], '--threshold must be at most 1'],
        [[threshold: '1.5'], '--threshold must be at most 1'],
        [[threshold: 'high'], "--threshold must be a number, not 'high'"],
        [[score_chunk_size: 0], '--score_chunk_size must be at least 1'],
        [[score_chunk_size: '1.5'], '--score_chunk_size must be a whole number'],
        [[score_chunk_size: 1.5], '--score_chunk_size must be a whole number'],
        [[precision: 'fp64'], '--precision must be one of fp32, bf16, fp16'],
        [[paired: 'yes'], '--paired must be true or false'],
        [[outdir: true], '--outdir needs a value'],
        [[fasta: '/nope/genome.fa'], '--fasta: file not found'],
        [[gtf: data.resolve('chr20_slice.bam').toString()], '--gtf'],
        [[input: '/nope/sheet.csv'], '--input: file not found'],
        [[treshold: 0.05], 'unknown parameter --treshold: did you mean --threshold?'],
        [[scoreChunkSize: 50], 'unknown parameter --scoreChunkSize: did you mean --score_chunk_size?'],
        [[Paired: true], 'unknown parameter --Paired: did you mean --paired?']
    ]
    bad_params.each { change, text ->
        def problems = checkParameters(good + change, schema).problems
        cases << [problems.any { message -> message.contains(text) }, "expected '${text}' in ${problems}"]
    }
    def foreign = checkParameters(good + [config_profile_contact: 'someone'], schema)
    cases << [foreign.problems == [] && foreign.warnings == ['splamflow: unknown parameter --config_profile_contact is ignored (not in nextflow_schema.json)'], "${foreign}"]
    cases << [typedValue('--x', ' 42 ', 'integer').value == 42, 'integers are trimmed']
    cases << [typedValue('--x', '1e-3', 'number').value == 0.001, 'numbers in exponent form']

    // annotation and model helpers
    cases << [annotationMeta('/x/genes.gff3.gz') == [id: 'genes', type: 'annotation'], 'annotation id from the file name']
    def weights = scratch.resolve('m.safetensors')
    weights.text = 'w'
    cases << [modelFiles(weights.toString()) == [weights], 'model without metadata']
    scratch.resolve('m.json').text = '{}'
    cases << [modelFiles(weights.toString()) == [weights, scratch.resolve('m.json')], 'model with its JSON metadata']

    // shipped models by name: the package's models folder, and one with a second model added
    def shipped = shippedModels(root.resolve('splamflow/models'))
    cases << [shipped == ['arabidopsis', 'human', 'human_v1', 'default'], "shipped models of the package: ${shipped}"]
    def more = scratch.resolve('models')
    more.mkdirs()
    ['splam_human.safetensors', 'splam_human.json', 'splam_plant-2.safetensors', 'splam_plant-2.json', 'splam_Bad.safetensors', 'README.md'].each { name -> more.resolve(name).text = 'x' }
    def two = shippedModels(more)
    cases << [two == ['human', 'plant-2', 'default'], "a second model file adds its name: ${two}"]
    cases << [modelProblem('plant-2', two) == null && modelProblem('default', two) == null && modelProblem(null, two) == null, 'shipped names are valid']
    cases << [modelProblem('plant-2', shipped) == "--model 'plant-2' is not a shipped model (shipped: arabidopsis, human, human_v1, default) nor a model file (.safetensors, .pt or .pth)", "unknown name: ${modelProblem('plant-2', shipped)}"]
    cases << [modelProblem(weights.toString(), shipped) == null, 'an existing model file is valid']
    cases << [modelProblem('/nope/m.pt', shipped) == '--model: file not found: /nope/m.pt', "missing file: ${modelProblem('/nope/m.pt', shipped)}"]
    cases << [isModelName('human') && !isModelName(weights.toString()) && !isModelName('m.pt'), 'names and files told apart']
    cases << [checkParameters(good + [model: 'human'], schema).problems == [] && checkParameters(good + [model: weights.toString()], schema).problems == [], 'the schema takes a name or a file']
    def bad_model = checkParameters(good + [model: 'My model'], schema).problems
    cases << [bad_model == ["--model: give a shipped model's name (human, ...) or a model file ending in .safetensors, .pt or .pth ('My model')"], "${bad_model}"]

    // SPLAMFLOW_SCORE's settings as Nextflow's selectors give them: a GPU however it is requested,
    // one task at a time on the local executor only, fp16 without a GPU
    def score = scoreProcess()
    def gpu_profile = ['withLabel:process_gpu': [accelerator: { 1 }, clusterOptions: { '--gres=gpu:1' }]]
    def selectors = [
        'gpu profile (withLabel:process_gpu)': gpu_profile,
        'withName:SPLAMFLOW_SCORE': ['withName:SPLAMFLOW_SCORE': [accelerator: 1]],
        "withName:'.*:SPLAMFLOW_SCORE'": ['withName:.*:SPLAMFLOW_SCORE': [accelerator: 1]],
        'withLabel:process_.* with a type': ['withLabel:process_.*': [accelerator: [request: 2, type: 'nvidia-tesla-t4']]],
        'withName:!SPLAMFLOW_(UNITE|PROJECT)': ['withName:!SPLAMFLOW_(UNITE|PROJECT)': [accelerator: 1]],
    ]
    selectors.each { what, config ->
        cases << [precisionProblem('fp16', processSettings(config, score, null)) == null, "fp16 with a GPU requested by ${what}: ${processSettings(config, score, null)}"]
    }
    def not_score = [
        'withName:SPLAMFLOW_CLEAN': ['withName:SPLAMFLOW_CLEAN': [accelerator: 1]],
        'withLabel:process_single': ['withLabel:process_single': [accelerator: 1]],
        'withName:!.*SCORE': ['withName:!.*SCORE': [accelerator: 1]],
        'a later accelerator 0': gpu_profile + ['withName:.*:SPLAMFLOW_SCORE': [accelerator: 0]],
    ]
    not_score.each { what, config ->
        cases << [precisionProblem('fp16', processSettings(config, score, null)) == '--precision fp16 needs a GPU (-profile gpu, or an accelerator for SPLAMFLOW_SCORE); on CPU use bf16 or fp32', "no GPU for the scorer from ${what}"]
    }
    // an accelerator closure is resolved as Nextflow would for the task, with the run's params
    def closures = [
        '{ 0 }': [{ 0 }, false],
        '{ null }': [{ null }, false],
        '{ [request: 0] }': [{ [request: 0] }, false],
        '{ params.no_such_param ? 1 : 0 }': [{ params.no_such_param ? 1 : 0 }, false],
        '{ 1 }': [{ 1 }, true],
        '{ [request: 2, type: params.no_such_param] }': [{ [request: 2, type: params.no_such_param] }, true],
    ]
    closures.each { what, pair ->
        def settings = processSettings(['withName:SPLAMFLOW_SCORE': [accelerator: pair[0]]], score, null)
        cases << [requestsGpu(settings) == pair[1] && acceleratorNote(settings) == null, "accelerator ${what}: a GPU request is ${pair[1]}"]
    }
    // a closure that reads the task cannot be resolved at start: a request, and a warning that says why
    // (compiled from text, as a configuration file's: this script may not name `task`)
    def reads_task = new GroovyShell().evaluate('{ -> task.attempt > 1 ? 1 : 0 }')
    def per_task = processSettings(['withName:SPLAMFLOW_SCORE': [accelerator: reads_task]], score, null)
    cases << [requestsGpu(per_task) && acceleratorNote(per_task)?.startsWith('splamflow: the accelerator of SPLAMFLOW_SCORE is a closure that cannot be evaluated at start (task is not known before the task runs)'), "accelerator { task.attempt > 1 ? 1 : 0 }: ${acceleratorNote(per_task)}"]
    cases << [precisionProblem('fp16', processSettings(['withName:SPLAMFLOW_SCORE': [accelerator: { 0 }]], score, null)) != null, 'fp16 refused with an accelerator closure returning 0']
    cases << [precisionProblem('bf16', processSettings([:], score, null)) == null && precisionProblem('fp32', processSettings([:], score, null)) == null, 'bf16 and fp32 run on CPU']
    cases << [processSettings([:], score, null).executor == 'local', 'the default executor is local']
    cases << [processSettings([:], score, 'slurm').executor == 'slurm' && processSettings([:], score, [name: 'lsf']).executor == 'lsf', 'the executor scope counts']
    cases << [processSettings([executor: 'slurm', 'withName:SPLAMFLOW_SCORE': [executor: 'awsbatch']], score, null).executor == 'awsbatch', "the selector's executor wins"]
    def local_config = ['withLabel:process_gpu': [accelerator: 1]]
    cases << [localGpuTurns(local_config, processSettings(local_config, score, null)) && local_config['withName:SPLAMFLOW_SCORE'] == [maxForks: 1], "local GPU tasks take turns: ${local_config}"]
    def slurm_config = [executor: 'slurm', 'withLabel:process_gpu': [accelerator: 1]]
    cases << [!localGpuTurns(slurm_config, processSettings(slurm_config, score, null)) && !slurm_config.containsKey('withName:SPLAMFLOW_SCORE'), 'SLURM GPU tasks run side by side']
    def own_limit = ['withLabel:process_gpu': [accelerator: 1], 'withName:SPLAMFLOW_SCORE': [maxForks: 3, memory: '8 GB']]
    cases << [!localGpuTurns(own_limit, processSettings(own_limit, score, null)) && own_limit['withName:SPLAMFLOW_SCORE'] == [maxForks: 3, memory: '8 GB'], 'a maxForks of the configuration is kept']
    def cpu_config = ['withName:SPLAMFLOW_SCORE': [memory: '8 GB']]
    cases << [!localGpuTurns(cpu_config, processSettings(cpu_config, score, null)) && cpu_config['withName:SPLAMFLOW_SCORE'] == [memory: '8 GB'], 'no GPU, no turns']

    // a GPU on SLURM needs clusterOptions that ask for it (the gpu profile's closure is not read at start)
    def gpu_closure = { '--gres=gpu:1' }
    def slurm_cases = [
        'the profile alone'                  : [[executor: 'slurm', 'withLabel:process_gpu': [accelerator: 1, clusterOptions: gpu_closure]], false],
        'a label selector after the profile' : [[executor: 'slurm', 'withLabel:process_gpu': [accelerator: 1, clusterOptions: gpu_closure], 'withLabel:process_medium': [clusterOptions: '--qos=medium']], true],
        'a name selector with the request'   : [[executor: 'slurm', 'withLabel:process_gpu': [accelerator: 1, clusterOptions: gpu_closure], 'withName:SPLAMFLOW_SCORE': [clusterOptions: '--qos=gpu --gres=gpu:a100:1']], false],
        'a list that asks with --gpus'       : [[executor: 'slurm', 'withName:SPLAMFLOW_SCORE': [accelerator: 1, clusterOptions: ['--qos=gpu', '--gpus=1']]], false],
        'an accelerator without the profile' : [[executor: 'slurm', 'withName:SPLAMFLOW_SCORE': [accelerator: 1]], true],
        'no GPU'                             : [[executor: 'slurm', 'withLabel:process_medium': [clusterOptions: '--qos=medium']], false],
        'a GPU on the local executor'        : [['withName:SPLAMFLOW_SCORE': [accelerator: 1, clusterOptions: '--qos=medium']], false],
    ]
    slurm_cases.each { what, pair ->
        def note = slurmGpuNote(processSettings(pair[0], score, null))
        cases << [(note != null) == pair[1] && (note == null || note.startsWith('splamflow: SPLAMFLOW_SCORE asks for a GPU (accelerator) but its SLURM clusterOptions')), "SLURM GPU note for ${what}: ${note}"]
    }

    cases << [condaProblem(true, '0.1.0')?.contains('install splamflow==0.1.0 from PyPI, which does not have that version yet'), 'conda refused while splamflow is not on PyPI']
    cases << [condaProblem(false, '0.1.0') == null, 'no conda, no problem']

    // scatter/gather helpers of subworkflows/splamflow/bed_score_cohort_splamflow
    cases << [chunkIndex(file('/w/chunk_000042.bed')) == 42, 'chunk index from the file name']
    def tasks = chunkTasks([id: 'union'], [file('/w/chunk_000001.bed'), file('/w/chunk_000000.bed')])
    cases << [tasks.collect { task -> task[0].id } == ['union.chunk_000001', 'union.chunk_000000'], "chunk ids: ${tasks}"]
    cases << [tasks.every { task -> task[0].union == [id: 'union'] && task[0].chunks == 2 }, "chunk metas keep the union: ${tasks}"]
    cases << [chunksInOrder([id: 's1'], [[2, 'c'], [0, 'a'], [1, 'b']]) == ['a', 'b', 'c'], 'chunks sorted by index']

    cases.each { ok, what ->
        if (ok) {
            passed += 1
        } else {
            failures << what
        }
    }
    if (failures) {
        error("validation: ${failures.size()} of ${cases.size()} checks failed:\n  - " + failures.join('\n  - '))
    }
    log.info("validation: ${passed} checks passed")
}

def writeSheet(Object folder, String name, String text) {
    def sheet = folder.resolve(name)
    sheet.text = text
    return sheet
}
